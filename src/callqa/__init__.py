"""callqa: offline speech and transcript quality assurance for contact centers.

The library is usable without the CLI or Prefect::

    from callqa import Pipeline, Settings, Store

    pipeline = Pipeline(Settings.from_env())
    processed = pipeline.process("call.wav")      # ProcessedCall (nothing written yet)
    with Store("callqa.duckdb").writing() as writer:
        writer.save_call(processed, run_id=None)
"""

__version__ = "0.1.0"

from callqa.audio import Recording, identify, load_recording  # noqa: E402
from callqa.errors import (  # noqa: E402
    AudioError,
    CallNotFoundError,
    CallQAError,
    ConfigError,
    DiarizationConfigError,
    InputError,
    ModelNotFoundError,
    ProcessingError,
    RulePackError,
    SidecarError,
    StoreError,
    StoreLockedError,
    TransientError,
)
from callqa.pipeline import Pipeline  # noqa: E402
from callqa.settings import Settings  # noqa: E402
from callqa.store import Store  # noqa: E402
from callqa.types import (  # noqa: E402
    CallMetadata,
    CallMetrics,
    CallRecord,
    Evaluation,
    Evidence,
    Outcome,
    Overlap,
    PiiSpan,
    ProcessedCall,
    Role,
    RoleAssignment,
    RuleResult,
    Silence,
    TimeSpan,
    Transcript,
    Turn,
    Word,
)

__all__ = [
    "__version__",
    # pipeline
    "Pipeline", "Settings", "Store", "Recording", "identify", "load_recording",
    # values
    "CallMetadata", "CallMetrics", "CallRecord", "Evaluation", "Evidence", "Outcome", "Overlap", "PiiSpan",
    "ProcessedCall", "Role", "RoleAssignment", "RuleResult", "Silence", "TimeSpan", "Transcript", "Turn", "Word",
    # errors
    "CallQAError", "ConfigError", "ModelNotFoundError", "DiarizationConfigError", "RulePackError", "InputError",
    "AudioError", "SidecarError", "ProcessingError", "TransientError", "StoreError", "StoreLockedError",
    "CallNotFoundError",
]
