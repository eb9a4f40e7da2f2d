"""Read a model directory written by ``edgeleak quantize`` into its typed record (``edgeleak.core.model``)."""

from __future__ import annotations

import json
from pathlib import Path

from edgeleak.core.model import MODEL_ARTIFACT, MODEL_META, MODEL_TFLITE, ModelDir, ModelMeta
from edgeleak.errors import EdgeleakError
from edgeleak.quantize.artifact import read_head, read_header


def load_model_dir(path: Path) -> ModelDir:
    """Read and check a model directory; a missing or corrupt file is a one-line error."""
    if not path.is_dir():
        raise EdgeleakError(f"model directory {path} does not exist; create it with 'edgeleak quantize --out {path}'")
    try:
        artifact = (path / MODEL_ARTIFACT).read_bytes()
        tflite = (path / MODEL_TFLITE).read_bytes()
        raw = json.loads((path / MODEL_META).read_text())
    except FileNotFoundError as exc:
        raise EdgeleakError(f"{path} lacks {Path(exc.filename).name}; re-run 'edgeleak quantize --out {path}'") from None
    except (json.JSONDecodeError, UnicodeDecodeError):
        raise EdgeleakError(f"{path / MODEL_META} is not valid JSON; re-run 'edgeleak quantize'") from None
    meta = ModelMeta.from_json(raw, str(path / MODEL_META))
    header = read_header(artifact)
    if meta.report.sha256 != header.sha256:
        raise EdgeleakError(f"{path / MODEL_META} describes another model than {MODEL_ARTIFACT}; re-run 'edgeleak quantize'")
    return ModelDir(path=path, artifact=artifact, tflite=tflite, sha256=header.sha256, arena_bytes=header.arena_size,
                    meta=meta, head=tuple(read_head(artifact)))
