# Copyright (c) mmsd contributors. All rights reserved.
"""Fine-tune and test configs over several seeds; tabulate mean ± std.

See ``python tools/multi_seed.py --help`` and
:mod:`mmsd.experiments.multi_seed`.
"""
from mmsd.experiments.multi_seed import main

if __name__ == '__main__':
    main()
