"""Packaging for lesson08, driven by settings.ini (nbdev 2 style, without pkg_resources)."""
import shutil
from configparser import ConfigParser
from pathlib import Path

import setuptools
from setuptools.command.build_py import build_py

here = Path(__file__).parent
cfg = ConfigParser(delimiters=['='])
cfg.read(here/'settings.ini', encoding='utf-8')
cfg = cfg['DEFAULT']

licenses = {'apache2': 'Apache-2.0'}   # SPDX expressions (license classifiers are deprecated)
statuses = ['1 - Planning', '2 - Pre-Alpha', '3 - Alpha', '4 - Beta', '5 - Production/Stable', '6 - Mature', '7 - Inactive']
py_versions = '3.10 3.11 3.12 3.13'.split()   # the versions `make test-pythons` runs
min_python = cfg['min_python']


class build_py_with_notebooks(build_py):
    "Copy the course notebooks from nbs/ into the built package, so the wheel ships them."
    def run(self):
        super().run()
        src = here/cfg['nbs_path']
        if not src.is_dir(): return          # building from an sdist that already holds them
        dst = Path(self.build_lib)/cfg['lib_name']/'notebooks'
        dst.mkdir(parents=True, exist_ok=True)
        for nb in sorted(src.glob('[0-9A]*.ipynb')) + sorted(src.glob('*_results*.json')): shutil.copy2(nb, dst/nb.name)


setuptools.setup(
    name=cfg['lib_name'],
    version=cfg['version'],
    description=cfg['description'],
    long_description=(here/'README.md').read_text(encoding='utf-8'),
    long_description_content_type='text/markdown',
    license=licenses[cfg['license']], license_files=['LICENSE'],
    # settings.ini's git_url, doc_host and author_email are placeholders nbdev needs: kept out of the package's metadata
    author=cfg['author'],
    keywords=cfg['keywords'].split(),
    classifiers=[
        'Development Status :: ' + statuses[int(cfg['status'])],
        'Intended Audience :: Education',
        'Natural Language :: ' + cfg['language'].title(),
    ] + ['Programming Language :: Python :: ' + v for v in py_versions[py_versions.index(min_python):]],
    # data folders are packages too (without __init__.py), so setuptools knows they belong to the wheel
    packages=[cfg['lib_name'], cfg['lib_name'] + '.data', cfg['lib_name'] + '.lab_settings'],
    package_data={cfg['lib_name']: ['notebooks/*.ipynb', 'notebooks/*.json', '*.js', '*.css'],
                  cfg['lib_name'] + '.data': ['*.npz'], cfg['lib_name'] + '.lab_settings': ['*.json']},
    include_package_data=True,
    python_requires='>=' + min_python,
    install_requires=cfg['requirements'].split(),
    extras_require={'dev': cfg['dev_requirements'].split()},
    entry_points={
        'console_scripts': cfg['console_scripts'].split(),
        'nbdev': [f"{cfg['lib_name']}={cfg['lib_name']}._modidx:d"],
    },
    cmdclass={'build_py': build_py_with_notebooks},
    zip_safe=False,
)
