"""Sphinx glue: render nbdev notebooks with MyST-NB.

On `source-read`, each course notebook goes through nbdev's own doc processors (show_doc API
docs after each exported cell, hidden cells removed, backtick links), then nbdev's directives are
mapped onto MyST-NB: `echo: false` -> remove-input, `output: false` -> remove-output, `include: false`
and `hide` drop the cell. Exported cells keep their code, as on an nbdev site: a course page shows
the code it teaches, with its show_doc reference under it. nbdev's links to `doc_host/<module>.html#name` become links to
the notebook's page and the section id docutils gives `name`.
"""
import json, re
from pathlib import Path

import yaml
from docutils.nodes import make_id

DROP = {'hide', 'default_exp'}
_directive = re.compile(r'^\s*#\|\s*([\w-]+)\s*:?\s*(.*?)\s*$')


def directives(src):
    "Split leading `#| key: value` lines from a code cell: ({key: value}, remaining source)."
    lines, d = src.split('\n'), {}
    while lines and (m := _directive.match(lines[0])):
        d[m.group(1)] = m.group(2).lower(); lines.pop(0)
    return d, '\n'.join(lines)


def pages(root):
    "Module name (from each notebook's `default_exp`) and unnumbered notebook name -> page name."
    out = {}
    for nb in sorted((root/'nbs').glob('[0-9A]*.ipynb')):
        m = re.search(r'#\|\s*default_exp\s+(\w+)', nb.read_text(encoding='utf-8'))
        if m: out[m.group(1)] = nb.stem
        out[re.sub(r'^\d+_', '', nb.stem)] = nb.stem      # nbdev's own links name the page after the notebook
    return out


_heading_link = re.compile(r'^(#+ .*)$', re.M)

def _unlink_headings(md):
    "Links inside headings break Sphinx's table of contents: keep their text only."
    return _heading_link.sub(lambda m: re.sub(r'\[([^\]]*)\]\([^)]*\)(\{[^}]*\})?', r'\1', m.group(1)), md)


def _show_doc_md(md):
    "show_doc's markdown without its leading rule and its source link (the project has no public repository)."
    md = re.sub(r'^\s*---\s*\n', '', md)
    return _unlink_headings(re.sub(r'^\[source\]\([^)]*\)\{[^}]*\}\s*\n', '', md))


def process(text, cfg, pages, path):
    "Apply nbdev's processors and the directive mapping to one notebook's JSON text."
    from execnb.nbio import dict2nb, nb2dict
    from nbdev.processors import FilterDefaults
    nb = dict2nb(json.loads(text))
    nb.path_ = str(path)
    FilterDefaults()(nb)
    nbd, cells = nb2dict(nb), []
    for c in nbd['cells']:
        c['source'] = ''.join(c['source'])
        if c['cell_type'] == 'raw' and c['source'].startswith('---'):      # nbdev front matter -> title + lead
            meta = yaml.safe_load(c['source'].strip().strip('-')) or {}
            c = {'cell_type': 'markdown', 'metadata': {}, 'source': f"# {meta.get('title', '')}\n\n{meta.get('description', '')}"}
        elif c['cell_type'] == 'markdown': c['source'] = _unlink_headings(c['source'])
        elif c['cell_type'] == 'code':
            d, c['source'] = directives(c['source'])
            if DROP & d.keys() or d.get('include') == 'false': continue
            tags = c.setdefault('metadata', {}).setdefault('tags', [])
            if d.get('echo') == 'false': tags.append('remove-input')
            if d.get('output') == 'false': tags.append('remove-output')
            for o in c.get('outputs', []):
                md = o.get('data', {}).get('text/markdown')
                if md is not None: o['data']['text/markdown'] = _show_doc_md(''.join(md))
        cells.append(c)
    host = re.escape((cfg.doc_host.rstrip('/') + '/' + cfg.doc_baseurl.strip('/')).rstrip('/'))
    link = re.compile(r'\[([^\]]*)\]\(' + host + r'/(\w+)\.html(?:#([\w.]+))?\)')
    def html_link(m):   # raw HTML, so MyST leaves the target alone; anchors are the ids docutils gives headings
        # (show_doc documents classes, not methods, so `Cls.meth` links to `Cls`)
        text = re.sub(r'`([^`]*)`', r'<code>\1</code>', m.group(1))
        if m.group(2) not in pages: return text   # a module with no page on the site (the solutions): no link
        return f"<a class='reference internal' href='{pages[m.group(2)]}.html" + (f"#{make_id(m.group(3).split('.')[0])}" if m.group(3) else '') + f"'>{text}</a>"
    for i, c in enumerate(cells):
        c.setdefault('id', f'cell-{i}')
        if c['cell_type'] == 'markdown': c['source'] = link.sub(html_link, c['source'])
        for o in c.get('outputs', []):
            if 'text/markdown' in o.get('data', {}): o['data']['text/markdown'] = link.sub(html_link, o['data']['text/markdown'])
    return json.dumps({**nbd, 'cells': cells})


def _source_read(app, docname, source):
    if not docname.startswith('course/') or not (Path(app.srcdir)/f'{docname}.ipynb').exists(): return
    from nbdev.config import get_config
    source[0] = process(source[0], get_config(), pages(Path(app.srcdir).parent), Path(app.srcdir)/f'{docname}.ipynb')


def setup(app):
    app.connect('source-read', _source_read)
    return {'parallel_read_safe': True, 'parallel_write_safe': True}
