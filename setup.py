# Copyright (c) mmsd contributors. All rights reserved.
from setuptools import find_packages, setup


def readme() -> str:
    with open('README.md', encoding='utf-8') as f:
        return f.read()


def get_version() -> str:
    scope: dict = {}
    with open('mmsd/version.py', encoding='utf-8') as f:
        exec(compile(f.read(), 'mmsd/version.py', 'exec'), scope)
    return scope['__version__']


def parse_requirements(fname: str) -> list:
    with open(fname, encoding='utf-8') as f:
        return [
            line.strip() for line in f
            if line.strip() and not line.startswith(('#', '-'))
        ]


setup(
    name='mmsd',
    version=get_version(),
    description='Self-distillation for further pre-training of '
    'transformers, as an MMPretrain plugin',
    long_description=readme(),
    long_description_content_type='text/markdown',
    packages=find_packages(exclude=('configs', 'tools', 'tests')),
    python_requires='>=3.8',
    install_requires=parse_requirements('requirements/runtime.txt'),
    extras_require=dict(
        text=parse_requirements('requirements/text.txt'),
        tb=parse_requirements('requirements/tensorboard.txt'),
        tests=parse_requirements('requirements/tests.txt')),
    license='Apache License 2.0',
    zip_safe=False)
