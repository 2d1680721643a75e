"""A public EVM chain through web3.py: anchors of log checkpoints sent and read.

Importing web3 imports py_ecc, which raises Python's recursion limit to 100,000 for the whole
process. With that limit a deeply nested JSON body (`[[[[…`) overflows the C stack inside `json`
and kills the process instead of raising RecursionError, so the limit is put back at once.
"""

import sys

_limit = sys.getrecursionlimit()
import web3  # noqa: E402, F401  (imported here, once, so that the limit is restored after it)

sys.setrecursionlimit(_limit)
