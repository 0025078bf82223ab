"""Scheduled report subscriptions: who receives them (`recipients`), the
typed input (`inputs`), when they run (`schedule`), writes and runs
(`services`) and what happens after commit, e-mail included (`delivery`).
The names below are the package's public face."""

from reporting.subscriptions.delivery import QUEUE_RUN_HANDLER, run_for_token
from reporting.subscriptions.inputs import SubscriptionData
from reporting.subscriptions.recipients import (
    eligible_recipients,
    on_groups_changed,
    parse_addresses,
    recipients_of,
)
from reporting.subscriptions.schedule import latest_slot, period_bounds
from reporting.subscriptions.services import (
    create_subscription,
    delete_subscription,
    execute_run,
    purge_old_files,
    request_run,
    retry_run,
    run_progress_key,
    update_subscription,
)

__all__ = [
    "QUEUE_RUN_HANDLER", "SubscriptionData", "create_subscription", "delete_subscription",
    "eligible_recipients", "execute_run", "latest_slot",
    "on_groups_changed", "parse_addresses", "period_bounds", "purge_old_files",
    "recipients_of", "request_run", "retry_run", "run_for_token", "run_progress_key",
    "update_subscription",
]
