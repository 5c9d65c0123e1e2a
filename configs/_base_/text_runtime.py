# Runtime of the text configs: mmsd's, plus the transformers-based models.
_base_ = './default_runtime.py'

custom_imports = dict(
    imports=['mmsd', 'mmsd.text'], allow_failed_imports=False)
