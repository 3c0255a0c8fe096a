"""Reading datasets, dispatch, executors, the ledger, policy, gate, reports and the CLI."""
