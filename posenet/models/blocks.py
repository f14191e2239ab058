"""Convolutional building blocks shared by the pose and action networks.

Every function applies named Keras layers to a tensor (functional style); the name prefix
keeps layer names stable, so weights can be matched across models (cutting a network at a
block, transferring a pose network into a multitask model).
"""

from keras import layers


def conv_bn_act(x, filters, kernel, name, strides=1):
    """Convolution, batch normalisation, ReLU."""
    x = conv_bn(x, filters, kernel, name, strides=strides)
    return layers.Activation("relu", name=f"{name}_relu")(x)


def conv_bn(x, filters, kernel, name, strides=1):
    """Convolution and batch normalisation, no activation."""
    x = layers.Conv2D(
        filters, kernel, strides=strides, padding="same", use_bias=False, name=f"{name}_conv"
    )(x)
    return layers.BatchNormalization(name=f"{name}_bn")(x)


def act_conv_bn(x, filters, kernel, name, strides=1):
    """Pre-activation convolution: ReLU, convolution, batch normalisation."""
    x = layers.Activation("relu", name=f"{name}_relu")(x)
    return conv_bn(x, filters, kernel, name, strides=strides)


def act_conv(x, filters, kernel, name):
    """ReLU then a biased linear convolution (the regression of heatmaps)."""
    x = layers.Activation("relu", name=f"{name}_relu")(x)
    return layers.Conv2D(filters, kernel, padding="same", name=f"{name}_conv")(x)


def act_sepconv_bn(x, filters, kernel, name):
    """ReLU, depthwise-separable convolution, batch normalisation."""
    x = layers.Activation("relu", name=f"{name}_relu")(x)
    x = layers.SeparableConv2D(
        filters, kernel, padding="same", use_bias=False, name=f"{name}_sepconv"
    )(x)
    return layers.BatchNormalization(name=f"{name}_bn")(x)


def sepconv_residual(x, out_size, kernel, name):
    """Residual unit around one separable convolution; a 1x1 projection adapts widths."""
    in_size = x.shape[-1]
    shortcut = x if in_size == out_size else act_conv_bn(x, out_size, 1, f"{name}_shortcut")
    if out_size < in_size:
        x = act_conv_bn(x, out_size, 1, f"{name}_reduce")
    x = act_sepconv_bn(x, out_size, kernel, name)
    return layers.Add(name=f"{name}_add")([shortcut, x])


def reception_block(x, kernel, name):
    """Hourglass-like block over three resolutions (e.g. 32, 16 and 8 pixels).

    The two lower levels work at half the width; the output has the input's shape. The
    input's rows and columns must be divisible by 4.
    """
    size = x.shape[-1]
    half = size // 2
    top = sepconv_residual(x, size, kernel, f"{name}_l1")

    mid = layers.MaxPooling2D(2, name=f"{name}_pool2")(x)
    mid = act_conv_bn(mid, half, 1, f"{name}_l2_in")
    mid = sepconv_residual(mid, half, kernel, f"{name}_l2_1")
    skip = sepconv_residual(mid, half, kernel, f"{name}_l2_2")

    low = layers.MaxPooling2D(2, name=f"{name}_pool3")(mid)
    for i in (1, 2, 3):
        low = sepconv_residual(low, half, kernel, f"{name}_l3_{i}")
    low = layers.UpSampling2D(2, name=f"{name}_up3")(low)

    mid = layers.Add(name=f"{name}_l2_merge")([skip, low])
    mid = sepconv_residual(mid, size, kernel, f"{name}_l2_3")
    mid = layers.UpSampling2D(2, name=f"{name}_up2")(mid)
    return layers.Add(name=f"{name}_merge")([top, mid])
