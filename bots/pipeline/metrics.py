"""Prometheus counters every process exports at /metrics."""
from collections.abc import Iterator

from prometheus_client import REGISTRY, Counter, Gauge, Histogram
from prometheus_client.core import GaugeMetricFamily

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


class Reading:
    """A gauge without labels that has no sample until set, and again none after `set(None)`: a reading that
    could not be taken (no Redis configured, the database not answering) is absent, never a stale or false 0."""

    def __init__(self, name: str, documentation: str) -> None:
        self.name, self.documentation = name, documentation
        self.value: float | None = None
        REGISTRY.register(self)

    def set(self, value: float | None) -> None:
        self.value = value

    def describe(self) -> list[GaugeMetricFamily]:
        return [GaugeMetricFamily(self.name, self.documentation)]

    def collect(self) -> Iterator[GaugeMetricFamily]:
        if self.value is not None:
            yield GaugeMetricFamily(self.name, self.documentation, value=self.value)


# What an on-call person is woken for (deploy/prometheus/siaga-alerts.yml), read by each web process; the worker's
# state comes from the database, since Prometheus scrapes only the web processes.
DATABASE_UP = Gauge("siaga_database_up", "1 when this web process's database answers, else 0")
REDIS_UP = Reading("siaga_redis_up", "1 when this web process's Redis answers, else 0 (absent without REDIS_URL)")
URGENT_UNVERIFIED_OLDEST = Reading("siaga_urgent_unverified_oldest_seconds",
                                   "Age of the oldest urgent report no operator has acted on yet (0: none; "
                                   "drills left out)")
INBOX_OLDEST_PENDING = Reading("siaga_inbox_oldest_pending_seconds",
                               "Seconds the longest-waiting due inbox event has waited for a worker (0: none)")
OUTBOX_OLDEST_WAITING = Gauge("siaga_outbox_oldest_waiting_seconds",
                              "Seconds the longest-waiting due outbound message has waited for a sender (0: none)",
                              ["channel"])
LOOP_HEARTBEAT_AGE = Gauge("siaga_loop_heartbeat_age_seconds",
                           "Seconds since any worker process last finished a pass of this loop (absent: never, "
                           "or not within a day)", ["loop"])
CHANNEL_AUTH_REFUSED = Gauge("siaga_channel_auth_refused",
                             "1 while the platform refuses our token for this chat channel (auth_revoked)", ["channel"])
