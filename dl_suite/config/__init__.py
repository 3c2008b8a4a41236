"""Config files (JSON or INI, current or legacy dialects) -> one validated canonical config.

This package imports neither Keras nor the models: it can validate a config anywhere.
"""

from dl_suite.config.loader import Config, config_from_dict, load_config  # noqa: F401
from dl_suite.config.schema import SCHEMA_VERSION, canonical_schema  # noqa: F401
from dl_suite.errors import ConfigError  # noqa: F401
