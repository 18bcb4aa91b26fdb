"""``python -m ferbench.cli``: the ferbench command line."""

import sys

from . import main

sys.exit(main())
