"""`unisono demo`: the built-in examples of every task, run by one model, written as a web page.

`run_demo(model_dir, out_dir)` renders the inputs from the synthetic world (`examples`), runs the
model on each and writes WAVs, spectrogram PNGs and `index.html` (`page`).
"""

from unisono.demo.examples import Example, build_examples
from unisono.demo.runner import DEFAULT_STEPS, measure, run_demo

__all__ = ["DEFAULT_STEPS", "Example", "build_examples", "measure", "run_demo"]
