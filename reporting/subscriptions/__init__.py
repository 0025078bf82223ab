"""Scheduled report subscriptions: who receives them (`recipients`), the
typed input (`inputs`), when they run (`schedule`), writes and runs
(`services`) and what happens after commit, e-mail included (`delivery`).
The names below are the package's public face."""

from reporting.subscriptions.delivery import (
    LINK_SALT,
    QUEUE_RUN_HANDLER,
    download_token,
    run_for_token,
    send_report,
)
from reporting.subscriptions.inputs import SubscriptionData
from reporting.subscriptions.recipients import (
    RECIPIENT_ROLES,
    drop_ineligible_recipients,
    eligible_recipients,
    on_groups_changed,
    parse_addresses,
    recipients_of,
)
from reporting.subscriptions.schedule import latest_slot, params_for, period_bounds
from reporting.subscriptions.services import (
    STALE_RUNNING,
    TASK_NAME,
    claim_run,
    create_subscription,
    delete_subscription,
    execute_run,
    purge_old_files,
    request_run,
    retry_run,
    update_subscription,
)

__all__ = [
    "LINK_SALT", "QUEUE_RUN_HANDLER", "RECIPIENT_ROLES", "STALE_RUNNING", "TASK_NAME",
    "SubscriptionData", "claim_run", "create_subscription", "delete_subscription",
    "download_token", "drop_ineligible_recipients", "eligible_recipients", "execute_run",
    "latest_slot", "on_groups_changed", "params_for", "parse_addresses", "period_bounds",
    "purge_old_files", "recipients_of", "request_run", "retry_run", "run_for_token",
    "send_report", "update_subscription",
]
