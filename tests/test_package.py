# Copyright (c) mmsd contributors. All rights reserved.
"""Importing mmsd silences the stack's two known-harmless warnings and no
other."""
import os
import subprocess
import sys

import pytest
from conftest import REPO


@pytest.mark.e2e
def test_import_silences_only_the_known_harmless_warnings():
    code = ('import warnings; warnings.simplefilter("always"); import mmsd; '
            'from mmengine.config import Config; '
            'Config.fromfile("configs/sd_vit-b_cub.py"); '
            'warnings.warn("a real warning")')
    result = subprocess.run([sys.executable, '-c', code],
                            cwd=REPO,
                            env=dict(os.environ, OMP_NUM_THREADS='1'),
                            capture_output=True,
                            text=True,
                            timeout=300)
    assert result.returncode == 0, result.stderr
    assert 'MultiScaleDeformableAttention' not in result.stderr
    assert 'pkg_resources' not in result.stderr
    assert 'UserWarning: a real warning' in result.stderr
