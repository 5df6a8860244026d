"""The whatsapp channel: template messages to subscribers through the WhatsApp Business
Cloud API (channel.py), their phone lists (subscribers.py), the API (cloud_api.py), the
per-subscriber loop (sending.py) and delivery receipts from the webhook (webhook.py)."""
