"""Sphinx configuration for the lesson08 site: MyST-NB renders the executed course notebooks,
`_ext/nbdev_bridge.py` applies nbdev's doc processors, and every asset is served locally."""
import sys
from pathlib import Path

here = Path(__file__).parent
sys.path.insert(0, str(here/'_ext'))

project = 'lesson08'
author = 'lesson08 authors'
copyright = '2026, lesson08 authors. MNIST by LeCun, Cortes and Burges, CC BY-SA 3.0'
extensions = ['myst_nb', 'nbdev_bridge']
exclude_patterns = ['_build', 'node_modules', '**/node_modules', '_static', '_ext', 'build.py', 'README.md']
suppress_warnings = ['mystnb.unknown_mime_type', 'myst.header']

# notebooks: already executed by build.py (with widget state), so never re-run here
nb_execution_mode = 'off'
nb_render_markdown_format = 'myst'          # show_doc output is MyST markdown (math, {target=...} attrs)
myst_enable_extensions = ['dollarmath', 'amsmath', 'attrs_inline', 'colon_fence']
myst_dmath_double_inline = True
myst_heading_anchors = 3

# everything local: MathJax 3, require.js and the widget html-manager come from _static/vendor
mathjax_path = 'vendor/mathjax/tex-chtml.js'
nb_ipywidgets_js = {
    'vendor/require.min.js': {},
    'requirejs-config.js': {},
    'vendor/html-manager/embed-amd.js': {},
}
html_static_path = ['_static']
html_favicon = '_static/favicon.svg'
html_js_files = [('mathjax-bridge.js', {'priority': 100})]   # before MathJax itself
html_css_files = ['custom.css']
html_theme = 'sphinx_book_theme'
html_title = 'lesson08: backprop from scratch'
html_theme_options = {'show_toc_level': 2, 'use_download_button': False, 'use_fullscreen_button': False}
html_context = {'default_mode': 'light'}
html_last_updated_fmt = None
html_copy_source = False


def setup(app):
    app.set_html_assets_policy('always')   # load the widget scripts on every page
