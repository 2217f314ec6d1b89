"""``open_engine``: the engine a preset's ``[engine]`` table asks for.

The Ray engine's module (and Ray) is imported only when ``kind = "ray"``; without
Ray installed that is an ``EngineError`` saying how to install it.
"""

from __future__ import annotations

from regtui.core.config import EngineConfig
from regtui.core.engines.base import RAY_INSTALL_HINT, Engine, EngineError


def open_engine(config: EngineConfig) -> Engine:
    """Open the engine (a Ray engine connects here); raises ``EngineError``."""
    if config.kind == "ray":
        try:
            import ray  # noqa: F401
        except ImportError:
            raise EngineError(RAY_INSTALL_HINT) from None
        from regtui.core.engines.ray_engine import RayEngine

        return RayEngine(config)
    from regtui.core.engines.in_process import InProcessEngine

    return InProcessEngine()
