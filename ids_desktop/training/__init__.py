"""Rebuilding the model bundles: recipes, the training loop, validation and shipping gates.

A development tool: it needs TensorFlow/Keras, and the installed app (which only scores) leaves
this package out. Each job has its own module:

- :mod:`.recipes` the shipped bundles' recipes, as data; :mod:`.locations` where data lives;
- :mod:`.options`, :mod:`.split`, :mod:`.context`, :mod:`.evaluation`, :mod:`.bundle_writer`
  and :mod:`.trainer` the training loop (:func:`.trainer.train`), with :mod:`.baselines` and
  :mod:`.card`;
- :mod:`.datasets` the dataset bundles' recipe runner, :mod:`.results` the RESULTS.md section;
- :mod:`.truth`, :mod:`.capture_sources`, :mod:`.oversampling`, :mod:`.capture_validation`,
  :mod:`.gate` and :mod:`.pcap` the capture bundle's recipe;
- :mod:`.export`, :mod:`.compare`, :mod:`.ceiling` and :mod:`.reproduce`: re-exports,
  option comparisons, the tree ceiling and reproducibility checks.
"""
