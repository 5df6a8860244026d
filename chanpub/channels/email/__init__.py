"""The e-mail channel: one message per recipient, through an outbox folder or SMTP."""
