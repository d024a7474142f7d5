"""Prometheus counters every process exports at /metrics."""
from prometheus_client import Counter, Gauge, Histogram

UPDATES_RECEIVED = Counter("siaga_updates_received_total", "Webhook updates stored", ["channel"])
UPDATES_DUPLICATE = Counter("siaga_updates_duplicate_total", "Re-delivered updates acknowledged", ["channel"])
EVENTS_PROCESSED = Counter("siaga_events_processed_total", "Inbox events applied", ["channel"])
EVENTS_FAILED = Counter("siaga_events_failed_total", "Inbox event attempts that failed", ["channel"])
DELIVERIES_PARKED = Counter("siaga_deliveries_parked_total",
                            "Authenticated deliveries stored parked (unusable or not storable as sent), "
                            "still acknowledged",
                            ["channel"])
MESSAGES_SENT = Counter("siaga_messages_sent_total", "Outbound messages delivered", ["channel"])
SEND_RETRIES = Counter("siaga_send_retries_total", "Sends postponed (rate limits, 429, errors)", ["channel", "reason"])
MESSAGES_DEAD = Counter("siaga_messages_dead_total", "Outbound messages given up", ["channel"])
WEBHOOK_SECONDS = Histogram("siaga_webhook_seconds", "Time to acknowledge a webhook", ["channel"])
INBOX_EVENTS = Gauge("siaga_inbox_events", "Inbox events by status (parked ones need a look)", ["status"])
OUTBOX_MESSAGES = Gauge("siaga_outbox_messages", "Outbound messages by status (dead = given up)", ["status"])
SEND_FAILURES = Counter("siaga_send_failures_total",
                        "Failed send attempts by classified reason (auth_revoked, server_error, network, "
                        "undeliverable)", ["channel", "reason"])
CHANNEL_UP = Gauge("siaga_channel_up", "1 while a chat channel delivers, 0 when it is down (see /readyz)",
                   ["channel"])
OUTBOX_STUCK = Gauge("siaga_outbox_stuck", "Messages waiting longer than channel_health.stuck_minutes",
                     ["channel"])
OUTBOX_DEAD_LETTERS = Gauge("siaga_outbox_dead_letters",
                            "Messages given up within channel_health.dead_letter_minutes", ["channel"])
