"""Task 1 of the report ("Keras basics"): MLP and CNN variants on Fashion-MNIST, the best three on
CIFAR-10. Same shape as :mod:`idl.clock` and :mod:`idl.generative`: :mod:`.data` (arrays and the
split), :mod:`.train` (one run), :mod:`.rank` (the winners), :mod:`.summary` (Tables 3-5 and the
figures); the models are :mod:`idl.models.keras_basics`.
"""

#: Table 2's full CNN: what a ``basics.runs`` CNN that leaves these keys out trains.
CNN_DEFAULTS = {"conv_layers": 5, "dropout_layers": 2}
