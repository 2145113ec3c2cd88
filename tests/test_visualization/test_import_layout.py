"""Imports in mmdcct/visualization go one way: every module imports alone,
no module imports a sibling that imports it back (directly or through
others), and none depends on the inferencer (mmdcct.apis) or the engine."""
import ast
import os
import os.path as osp
import subprocess
import sys

REPO = osp.dirname(osp.dirname(osp.dirname(osp.abspath(__file__))))
PACKAGE = osp.join(REPO, 'mmdcct', 'visualization')
MODULES = sorted(name[:-3] for name in os.listdir(PACKAGE)
                 if name.endswith('.py') and name != '__init__.py')


def read(module: str) -> str:
    with open(osp.join(PACKAGE, module + '.py')) as f:
        return f.read()


def mmdcct_imports(source: str) -> set:
    """The ``mmdcct`` modules a visualization module's source imports (any
    depth, lazy imports inside functions included)."""
    tree = ast.parse(source)
    found = set()
    for node in ast.walk(tree):
        if isinstance(node, ast.Import):
            found.update(
                a.name for a in node.names if a.name.startswith('mmdcct'))
        elif isinstance(node, ast.ImportFrom):
            if node.level:  # relative: a sibling, or the package itself
                base = 'mmdcct.visualization'
                target = f'{base}.{node.module}' if node.module else base
                if node.module is None:
                    found.update(f'{base}.{a.name}' for a in node.names)
                else:
                    found.add(target)
            elif node.module and node.module.startswith('mmdcct'):
                found.add(node.module)
                found.update(f'{node.module}.{a.name}' for a in node.names)
    return found


def sibling_graph(sources: dict) -> dict:
    """``module -> siblings it imports`` for ``module -> source`` (importing
    the package itself counts as importing every other module)."""
    graph = {}
    for module, source in sources.items():
        deps = set()
        for name in mmdcct_imports(source):
            parts = name.split('.')
            if parts[:2] != ['mmdcct', 'visualization']:
                continue
            if len(parts) == 2:
                deps.update(m for m in sources if m != module)
            elif parts[2] in sources and parts[2] != module:
                deps.add(parts[2])
        graph[module] = deps
    return graph


def in_circles(graph: dict) -> list:
    """The modules that reach themselves through their imports."""

    def reaches(start, goal, seen):
        return any(dep == goal or (
            dep not in seen and reaches(dep, goal, seen | {dep}))
                   for dep in graph[start])

    return sorted(m for m in graph if reaches(m, m, {m}))


def test_the_check_sees_lazy_relative_and_absolute_circles():
    assert in_circles(
        sibling_graph({
            'a': 'from .b import x',
            'b': 'def f():\n    from .a import y',
            'c': 'import numpy',
        })) == ['a', 'b']
    assert in_circles(
        sibling_graph({
            'a': 'from mmdcct.visualization.b import x',
            'b': 'from mmdcct.visualization import a',
        })) == ['a', 'b']
    assert in_circles(
        sibling_graph({
            'a': 'from .b import x',
            'b': 'import cv2'
        })) == []


def test_no_import_circle_between_siblings():
    assert {'attention', 'rank_list', 'visualizer'} <= set(MODULES)
    graph = sibling_graph({m: read(m) for m in MODULES})
    assert in_circles(graph) == [], graph


def test_visualization_knows_neither_the_inferencer_nor_the_engine():
    sources = {m: read(m) for m in MODULES}
    for module, source in sources.items():
        bad = [
            name for name in mmdcct_imports(source)
            if name.startswith(('mmdcct.apis', 'mmdcct.engine'))
        ]
        assert bad == [], (module, bad)
        assert 'inferencer.' not in source, module
    # the visualizer draws what it is given: no sibling at all
    assert sibling_graph(sources)['visualizer'] == set()


def test_each_module_imports_alone():
    """``import mmdcct.visualization.<module>`` first, in a fresh process
    (an import circle fails in one of the orders)."""
    env = dict(os.environ, PYTHONPATH=REPO, OMP_NUM_THREADS='1')
    procs = {
        module:
        subprocess.Popen(
            [sys.executable, '-c', f'import mmdcct.visualization.{module}'],
            cwd=REPO,
            env=env,
            stdout=subprocess.PIPE,
            stderr=subprocess.PIPE,
            text=True)
        for module in MODULES
    }
    for module, proc in procs.items():
        _, err = proc.communicate(timeout=300)
        assert proc.returncode == 0, (module, err[-3000:])
