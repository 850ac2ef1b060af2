# The chain-rule explorer in marimo: `marimo edit examples/explorer_marimo.py` (or `marimo run` for the app view).
# marimo runs anywidgets through mo.ui.anywidget; `marimo export html` keeps the widget's state, so the
# exported page stays clickable with no kernel (precomputed explanations only).
import marimo

app = marimo.App()


@app.cell
def _():
    import marimo as mo

    from lesson08 import module
    from lesson08.data import get_mnist
    from lesson08.explorer import explore
    from lesson08.forward import init_params
    return explore, get_mnist, init_params, mo, module


@app.cell
def _(explore, get_mnist, init_params, mo, module):
    x_train, y_train, *_ = get_mnist()
    explorer = mo.ui.anywidget(explore(module.Model(*init_params()), x_train, y_train.float(), selected=3))
    explorer
    return (explorer,)


if __name__ == "__main__":
    app.run()
