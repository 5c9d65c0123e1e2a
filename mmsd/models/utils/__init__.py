# Copyright (c) mmsd contributors. All rights reserved.
from .checked_load import CheckpointMismatchError, load_checked
from .freeze import freeze

__all__ = ['CheckpointMismatchError', 'freeze', 'load_checked']
