"""Task 1 of the report ("Keras basics"): MLP and CNN variants on Fashion-MNIST, the best three on
CIFAR-10. Same shape as :mod:`idl.clock` and :mod:`idl.generative`: :mod:`.data` (arrays and the
split), :mod:`.train` (one run), :mod:`.rank` (the winners), :mod:`.summary` (Tables 3-5 and the
figures); the models are :mod:`idl.models.keras_basics`.
"""

#: Table 2's full CNN: what a ``basics.runs`` CNN that leaves these keys out trains.
CNN_DEFAULTS = {"conv_layers": 5, "dropout_layers": 2}

#: What the 3-convolutional-layer CNNs keep of Table 2 (the report does not say); the results page quotes it.
CONV3_NOTE = (
    "The 3-convolutional-layer CNNs keep Table 2's first convolution (64 filters, 7x7) and "
    "the first 128-filter convolution of each of the two 128-filter pairs, i.e. Conv64, MaxPool, "
    "Conv128, MaxPool, Conv128, MaxPool, then Table 2's dense part; all convolutions use "
    "'same' padding and ReLU, the 128-filter ones a 3x3 kernel (the report gives no size)."
)
