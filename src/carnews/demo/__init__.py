"""The offline demo: bundled sample feeds, a local feed server and an embedded SMTP server."""
