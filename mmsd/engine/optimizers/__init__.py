# Copyright (c) mmsd contributors. All rights reserved.
from .recadam import RecAdam, anneal_lambda

__all__ = ['RecAdam', 'anneal_lambda']
