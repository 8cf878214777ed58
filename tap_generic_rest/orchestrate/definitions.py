"""The Dagster definitions of an accounts file: an asset per source, a backfill job per source.

* One asset per source (built-in, vendor profile or spec) of the file, partitioned by account
  (``StaticPartitionsDefinition``); a partition is one ``meltano run`` of that account into the
  target, resuming from its own state id. Its materialization shows the tap's run summary.
* One job per source, ``<source>_backfill``, partitioned by account and day
  (``MultiPartitionsDefinition``): each run reads one day as a window (``start_date`` and
  ``end_date``) under a state id of that day, so days run in parallel on any worker and the
  live bookmark never moves. It runs on the multiprocess executor.
* Both share the source's concurrency pool (``vendor-<source>``, or the file's ``pools``), so
  that a limit set on the Dagster instance is a budget per vendor across accounts and jobs.
"""

from datetime import date, datetime
from typing import Any

import dagster as dg
from dagster import AssetExecutionContext, OpExecutionContext

from .accounts import Account, Accounts, AccountsError
from .partition_run import Outcome, Window, run_partition

#: Run tag naming the pool, for run-queue limits per vendor (``tag_concurrency_limits``).
POOL_TAG = "tap-generic-rest/pool"
GROUP = "tap_generic_rest"


def build_definitions(accounts: Accounts) -> dg.Definitions:
    """The assets and jobs of every source in ``accounts``."""
    assets: list[dg.AssetsDefinition] = []
    jobs: list[dg.JobDefinition | dg.UnresolvedAssetJobDefinition] = []
    for asset, members in accounts.assets().items():
        pool = accounts.pool(asset)
        assets.append(_live_asset(accounts, asset, members, pool))
        jobs.append(
            dg.define_asset_job(
                f"{asset}_job",
                selection=[asset],
                tags={POOL_TAG: pool},
                description=(f"Incremental runs of {asset}, one per account."),
            )
        )
        jobs.append(_backfill_job(accounts, asset, members, pool))
    return dg.Definitions(assets=assets, jobs=jobs)


def _live_asset(
    accounts: Accounts, asset: str, members: list[Account], pool: str
) -> dg.AssetsDefinition:
    @dg.asset(
        name=asset,
        partitions_def=dg.StaticPartitionsDefinition([a.name for a in members]),
        pool=pool,
        kinds={"meltano"},
        group_name=GROUP,
        description=f"{members[0].origin} into {accounts.target}, one partition per account; "
        "each run resumes from the account's own Meltano state.",
        metadata={"target": accounts.target, "pool": pool},
    )
    def live(context: AssetExecutionContext) -> dg.MaterializeResult[None]:
        outcome = _run(context, accounts, asset, context.partition_key, None)
        return dg.MaterializeResult(metadata=metadata(outcome))

    return live


def _backfill_job(
    accounts: Accounts, asset: str, members: list[Account], pool: str
) -> dg.JobDefinition:
    partitions = dg.MultiPartitionsDefinition(
        {
            "account": dg.StaticPartitionsDefinition([a.name for a in members]),
            "day": dg.DailyPartitionsDefinition(
                start_date=datetime.combine(accounts.backfill_start, datetime.min.time()),
                timezone="UTC",
            ),
        }
    )

    @dg.op(name=f"{asset}_day", pool=pool, tags={"kind": "meltano"})
    def day(context: OpExecutionContext) -> None:
        keys = partitions.get_partition_key_from_str(context.partition_key).keys_by_dimension
        window = Window(date.fromisoformat(keys["day"]))
        outcome = _run(context, accounts, asset, keys["account"], window)
        context.log_event(
            dg.AssetObservation(
                asset_key=asset,
                partition=keys["account"],
                metadata={"day": keys["day"], **metadata(outcome)},
            )
        )

    @dg.job(
        name=f"{asset}_backfill",
        partitions_def=partitions,
        executor_def=dg.multiprocess_executor,
        tags={POOL_TAG: pool},
        description=f"{asset} by account and day: each day read as its own window, under its "
        "own state id (the live bookmark never moves).",
    )
    def backfill() -> None:
        day()

    return backfill


def _run(
    context: AssetExecutionContext | OpExecutionContext,
    accounts: Accounts,
    asset: str,
    account: str,
    window: Window | None,
) -> Outcome:
    """Run the partition, its lines into the step's log; a failure is the tap's own line."""

    def log(line: str) -> None:
        if line.startswith(("[warning]", "[error]", "[critical]")) or "summary: " in line:
            context.log.info(line)
        else:
            context.log.debug(line)

    try:
        outcome = run_partition(accounts, asset, account, window, log=log)
    except AccountsError as error:
        raise dg.Failure(description=str(error), allow_retries=False) from None
    if not outcome.ok:
        raise dg.Failure(
            description=outcome.report.failure(outcome.returncode),
            metadata=metadata(outcome),
            allow_retries=outcome.interrupted,
        )
    return outcome


def metadata(outcome: Outcome) -> dict[str, Any]:
    """What a run's page shows: the tap's summary per stream, its warnings, the state id."""
    report = outcome.report
    rows = [
        f"| {name} | {c.records:,} | {c.pages:,} | {c.requests:,} | {c.retries:,} | "
        f"{c.seconds:.2f} |"
        for name, c in sorted(report.streams.items())
    ]
    table = (
        "| stream | records | pages | requests | retries | seconds |\n|---|---|---|---|---|---|\n"
    )
    return {
        "records": report.total("records"),
        "pages": report.total("pages"),
        "requests": report.total("requests"),
        "retries": report.total("retries"),
        "streams": dg.MetadataValue.md(table + "\n".join(rows)),
        "records_by_stream": {name: c.records for name, c in report.streams.items()},
        "warnings": dg.MetadataValue.md("\n".join(f"- {w}" for w in report.warnings) or "none"),
        "warning_count": len(report.warnings),
        "state_id": outcome.invocation.state_id,
    }
