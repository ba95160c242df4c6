"""``python -m braintumor`` (and ``torchrun -m braintumor``) runs the CLI."""

import sys

from .cli import main

sys.exit(main())
