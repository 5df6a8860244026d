"""chanpub's small web application: WhatsApp delivery receipts (and, later, the phone
approval pages). Build it with `chanpub.web.app.create_app`."""
