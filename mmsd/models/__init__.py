# Copyright (c) mmsd contributors. All rights reserved.
from .algorithms import *  # noqa: F401,F403
from .classifiers import *  # noqa: F401,F403
from .heads import *  # noqa: F401,F403
from .regularizers import *  # noqa: F401,F403
from .teacher import *  # noqa: F401,F403
from .utils import *  # noqa: F401,F403
