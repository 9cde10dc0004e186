"""A small procedural 3-D action game that writes data in exactly the WildWorld release layout.

It is deterministic (same seed, same annotations) and re-simulatable (restore any frame from
its annotations and step it with any actions), which WildBench uses for reference futures.
See docs/synthetic-world.md.
"""

from .actions import ACTIONS_BY_KEY, ACTIONS_BY_NAME, PLAYER_ACTIONS, ActionSpec, action_groups
from .simulation import MonsterSlot, Script, WorldState, simulate, step
from .world import DEPTH_METRES_PER_CODE, Annotations, SyntheticWorld, decode_depth, encode_depth, make_script, skeleton_edges
from .writer import GENERATOR_VERSION, SIDECAR_FILE, SynthOptions, generate, load_scripts, write_sample

__all__ = [
    "ACTIONS_BY_KEY",
    "ACTIONS_BY_NAME",
    "ActionSpec",
    "Annotations",
    "DEPTH_METRES_PER_CODE",
    "GENERATOR_VERSION",
    "MonsterSlot",
    "PLAYER_ACTIONS",
    "SIDECAR_FILE",
    "Script",
    "SynthOptions",
    "SyntheticWorld",
    "WorldState",
    "action_groups",
    "decode_depth",
    "encode_depth",
    "generate",
    "load_scripts",
    "make_script",
    "simulate",
    "skeleton_edges",
    "step",
    "write_sample",
]
