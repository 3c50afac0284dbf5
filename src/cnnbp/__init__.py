"""cnnbp: convolutional-network backpropagation, implemented, verified and illustrated.

    >>> import cnnbp
    >>> from cnnbp import layers, losses, optim, functional as F
"""

from . import functional, init, layers, losses, optim
from . import data
from . import training
from ._version import __version__
from .gradcheck import GradcheckResult, gradcheck
from .parameter import Parameter

__all__ = [
    "__version__", "Parameter", "gradcheck", "GradcheckResult",
    "functional", "init", "layers", "losses", "optim",
]
