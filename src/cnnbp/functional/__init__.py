"""Pure forward and backward functions; layers own parameters and call these."""

from .activations import (
    leaky_relu,
    leaky_relu_backward,
    log_softmax,
    maxout,
    maxout_backward,
    relu,
    relu_backward,
    scaled_tanh,
    scaled_tanh_backward,
    sigmoid,
    sigmoid_backward,
    softmax,
    softmax_backward,
    tanh,
    tanh_backward,
)
from .dense import dense_backward, dense_forward
from .pooling import (
    avg_pool2d,
    avg_pool2d_backward,
    lp_pool2d,
    lp_pool2d_backward,
    max_pool2d,
    max_pool2d_backward,
    pool_output_shape,
    subsampling,
    subsampling_backward,
    upsample_kron,
    window_sum,
    window_sum_backward,
)
from .conv import (
    conv2d,
    conv2d_backward,
    conv2d_backward_bias,
    conv2d_backward_input,
    conv2d_backward_weight,
    conv_output_size,
)
