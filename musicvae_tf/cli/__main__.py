"""``python -m musicvae_tf.cli``: the same as the ``musicvae-tf`` command."""

import sys

from musicvae_tf.cli import main

sys.exit(main())
