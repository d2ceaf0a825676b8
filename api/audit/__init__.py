"""The audit log: who did which moderation or administration act, written with the act."""
