"""``python -m ferbench`` (and ``torchrun -m ferbench``): the ferbench command line."""

import sys

from .cli import main

sys.exit(main())
