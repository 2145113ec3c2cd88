"""Importing the library's datasets loads none of the test fixtures."""
import json
import subprocess
import sys

#: Fixture modules and the optional dependency only they (and LS-VID's
#: query file reader, lazily) need.
FIXTURE_MODULES = ('mmdcct.testing', 'h5py')


def _modules_after(statements: str) -> list:
    code = (f'{statements}\n'
            'import json, sys\n'
            f'print(json.dumps(sorted(m for m in sys.modules '
            f'if m.split(".")[0] == "h5py" or m.startswith("mmdcct."))))')
    out = subprocess.run([sys.executable, '-c', code],
                         capture_output=True,
                         text=True,
                         check=True)
    return json.loads(out.stdout.strip().splitlines()[-1])


def test_datasets_do_not_import_fixtures():
    loaded = _modules_after('import mmdcct.datasets\n'
                            'from mmdcct.utils import register_all_modules\n'
                            'register_all_modules()')
    assert 'mmdcct.datasets.ls_vid' in loaded  # the import did happen
    assert not [m for m in loaded if m.startswith(FIXTURE_MODULES)]


def test_fixtures_import_the_renderer():
    loaded = _modules_after('import mmdcct.testing')
    assert {'mmdcct.testing.renderer',
            'mmdcct.testing.synthetic_datasets'} <= set(loaded)
    assert 'h5py' not in loaded  # only the LS-VID writer needs it
