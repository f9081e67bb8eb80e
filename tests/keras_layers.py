"""Models read back as rows comparable with the report's architecture tables."""


def layer_rows(model, padding: bool = False) -> list[tuple]:
    """(class name, key parameters) for each layer after the input and rescaling.

    ``padding`` adds the Conv2D padding, for tables where it is our choice rather than Keras' default.
    """
    out = []
    for layer in model.layers[2:]:
        c = layer.get_config()
        name = type(layer).__name__
        if name == "Conv2D":
            pad = (c["padding"],) if padding else ()
            out.append((name, c["filters"], tuple(c["kernel_size"]), tuple(c["strides"]), *pad, c["activation"]))
        elif name == "MaxPooling2D":
            out.append((name, tuple(c["pool_size"]), tuple(c["strides"])))
        elif name == "Dense":
            out.append((name, c["units"], c["activation"]))
        elif name == "Dropout":
            out.append((name, c["rate"]))
        else:
            out.append((name,))
    return out
