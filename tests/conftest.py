import sys
from pathlib import Path

# test plugins (tests/harness/testplugins.py) must import in worker processes too; the
# local executor hands its sys.path to every worker
sys.path.insert(0, str(Path(__file__).parent / "harness"))
