"""Stochastic optimizers that update one flat parameter vector in place.

The minibatch solvers of the sparse autoencoder (``solver="sgd"`` and
``solver="adam"``) follow :class:`~sklearn.neural_network.MLPRegressor`: the
classes here have the methods, attributes and arithmetic of scikit-learn's
``sklearn.neural_network._stochastic_optimizers`` (``update_params``,
``iteration_ends``, ``trigger_stopping``, ``learning_rate``, Adam's ``t``),
with two differences:

- the parameters are ONE flat vector (W1, b1, W2, b2 packed as in
  :mod:`skl_sparseae._objective`) rather than a list of arrays, and so is the
  gradient;
- a step allocates nothing: the moment or velocity buffers and one scratch
  buffer of the vector's shape are allocated once, in ``__init__``, and every
  step writes into them and into ``params`` in place.

The vector may belong to any Array API namespace (NumPy, array-api-strict,
PyTorch, CuPy ...). The generic path uses only what the standard has
(in-place operators, ``x[...] = y``, ``xp.sqrt``, ``xp.zeros_like``); NumPy
arrays take a path with ``out=`` arguments, which saves passes over memory.
The standard has no ``out=``, so Adam's square root is the one temporary a
step of a non-NumPy namespace allocates.

The results equal scikit-learn's to round-off: computing in place forces a
few operations into another order than scikit-learn's list comprehensions
(for instance ``m / d * lr`` instead of ``-lr * m / d``), which changes the
last bit now and then, never more.

The optimizer's state lives between ``partial_fit`` calls, and a call that
fails (a first epoch that is not finite, any error) must leave it
untouched: the estimator steps a :meth:`BaseOptimizer.copy` and keeps it
only after the call succeeded, or was interrupted after a completed step
(the loop holds an interrupt back until the update of the step under way
is done, so the state and the weights always agree). The state pickles
(the namespace module, which does not pickle, is recovered from the
buffers), and :meth:`BaseOptimizer.moved` copies it into another namespace
or onto another device.

A later vector may have another float dtype than the buffers (a
``partial_fit`` piece in float32 after one in float64). NumPy's in-place
ufuncs mix the two dtypes, and the buffers keep theirs; the Array API
standard has no mixed-dtype in-place operators, so in other namespaces the
buffers are first cast to the vector's dtype.
"""

# SPDX-License-Identifier: BSD-3-Clause

import math

import numpy as np

from ._sklearn_compat import array_namespace

# Attributes holding arrays of the parameters' shape: what copy() duplicates
# and what the namespace is recovered from after unpickling.
_BUFFERS = ("velocity", "first_moment", "second_moment", "_scratch")


def _namespace(array, xp=None):
    """The Array API namespace of ``array``: ``xp`` if given, NumPy for ndarrays."""
    if xp is not None:
        return xp
    if isinstance(array, np.ndarray):
        return np
    return array_namespace(array)


def _copy_array(array, xp):
    if isinstance(array, np.ndarray):
        return array.copy()
    return xp.asarray(array, copy=True)


class BaseOptimizer:
    """Base (stochastic) gradient descent optimizer of a flat parameter vector.

    Parameters
    ----------
    params : array of shape (n_parameters,)
        The flat parameter vector. Used for the shape, dtype, namespace and
        device of the optimizer's buffers; not modified here.

    learning_rate_init : float, default=0.1
        The initial learning rate used. It controls the step-size in updating
        the weights.

    xp : module, default=None
        The Array API namespace of ``params``. None infers it: NumPy for a
        NumPy array, else ``array_api_compat.array_namespace(params)``.

    Attributes
    ----------
    learning_rate : float
        The current learning rate.
    """

    def __init__(self, params, learning_rate_init=0.1, *, xp=None):
        self.learning_rate_init = learning_rate_init
        self.learning_rate = float(learning_rate_init)
        self._xp = _namespace(params, xp)
        self._scratch = self._xp.zeros_like(params)

    def update_params(self, params, grads, *, map_parts=None):
        """Update the parameters in place with the given gradient.

        Parameters
        ----------
        params : array of shape (n_parameters,)
            The flat parameter vector the optimizer was built for (same
            namespace, shape and dtype), modified in place.

        grads : array of shape (n_parameters,)
            The gradient of the loss at ``params``, of the same namespace and
            shape. A dtype other than ``params``' is cast to it.

        map_parts : callable, default=None
            For NumPy vectors: ``map_parts(update)`` calls ``update(part)``
            once for each slice ``part`` of a set of slices that cover the
            vector, in any order or concurrently; each call updates the
            elements of its slice. The update is element-wise, so the
            result does not depend on the slices. None updates the whole
            vector at once. Ignored for other namespaces.
        """
        if isinstance(params, np.ndarray):
            self._start_step()
            if map_parts is None:
                self._update_numpy(params, grads, slice(None))
            else:
                map_parts(lambda part: self._update_numpy(params, grads, part))
        else:
            if self._scratch.dtype != params.dtype:
                self._cast_buffers(params.dtype)
            if grads.dtype != params.dtype:
                grads = self._xp.astype(grads, params.dtype)
            self._update_array_api(params, grads)

    def _start_step(self):
        """What a step changes before its element-wise update (Adam's rate)."""

    def iteration_ends(self, time_step):
        """Perform updates to the learning rate at the end of an epoch.

        Parameters
        ----------
        time_step : int
            Number of training samples trained on so far.
        """

    def trigger_stopping(self, msg, verbose):
        """Decide whether it is time to stop training.

        Parameters
        ----------
        msg : str
            Message passed in for verbose output.

        verbose : bool
            Print message to stdout if True.

        Returns
        -------
        is_stopping : bool
            True if training needs to stop.
        """
        if verbose:
            print(msg + " Stopping.")
        return True

    def copy(self):
        """An independent copy of the optimizer, its buffers included.

        Returns
        -------
        optimizer : BaseOptimizer
            A new optimizer of the same class and state; stepping it leaves
            this one unchanged.
        """
        new = object.__new__(type(self))
        new.__dict__.update(self.__dict__)
        for name in _BUFFERS:
            if name in self.__dict__:
                setattr(new, name, _copy_array(self.__dict__[name], self._xp))
        return new

    def moved(self, converter):
        """An independent copy whose buffers are ``converter(buffer)``.

        Parameters
        ----------
        converter : callable
            Takes one buffer and returns it in the target namespace and on
            the target device, as scikit-learn's ``move_to`` does.

        Returns
        -------
        optimizer : BaseOptimizer
            A new optimizer of the same class and state, its namespace the
            converted buffers'. This one is left unchanged.
        """
        new = self.copy()
        for name in _BUFFERS:
            if name in new.__dict__:
                setattr(new, name, converter(new.__dict__[name]))
        new._xp = _namespace(new._scratch)
        return new

    def _cast_buffers(self, dtype):
        for name in _BUFFERS:
            if name in self.__dict__:
                setattr(self, name, self._xp.astype(self.__dict__[name], dtype))

    def __getstate__(self):
        state = self.__dict__.copy()
        # Modules do not pickle; __setstate__ recovers it from a buffer.
        state.pop("_xp", None)
        return state

    def __setstate__(self, state):
        self.__dict__.update(state)
        self._xp = _namespace(self._scratch)


class SGDOptimizer(BaseOptimizer):
    """Stochastic gradient descent with momentum, on a flat parameter vector.

    The in-place counterpart of scikit-learn's
    ``sklearn.neural_network._stochastic_optimizers.SGDOptimizer``: the
    velocity becomes ``momentum * velocity - learning_rate * grad`` and the
    parameters move by the velocity, or with Nesterov's momentum by
    ``momentum * velocity - learning_rate * grad`` with the new velocity.

    Parameters
    ----------
    params : array of shape (n_parameters,)
        The flat parameter vector, as for :class:`BaseOptimizer`.

    learning_rate_init : float, default=0.1
        The initial learning rate: the step size of the first updates.

    lr_schedule : {'constant', 'adaptive', 'invscaling'}, default='constant'
        Learning rate schedule for weight updates.

        - 'constant' is a constant learning rate given by
          'learning_rate_init'.
        - 'invscaling' gradually decreases the learning rate at each time
          step 't' using an inverse scaling exponent of 'power_t':
          ``learning_rate = learning_rate_init / pow(t + 1, power_t)``,
          set by :meth:`iteration_ends`.
        - 'adaptive' keeps the learning rate constant as long as training
          keeps improving; each time :meth:`trigger_stopping` is called the
          learning rate is divided by 5, and training stops once it is at
          most 1e-6.

    momentum : float, default=0.9
        Value of momentum used, must be larger than or equal to 0.

    nesterov : bool, default=True
        Whether to use Nesterov's momentum or not.

    power_t : float, default=0.5
        Power of time step 't' in inverse scaling. See `lr_schedule` for
        more details.

    xp : module, default=None
        The namespace of ``params``, as for :class:`BaseOptimizer`.

    Attributes
    ----------
    learning_rate : float
        The current learning rate.

    velocity : array of shape (n_parameters,)
        The velocity used to update the parameters.

    See Also
    --------
    AdamOptimizer : Adam, the other minibatch solver.

    Examples
    --------
    >>> import numpy as np
    >>> from skl_sparseae._optimizers import SGDOptimizer
    >>> theta = np.array([1.0, -2.0])
    >>> optimizer = SGDOptimizer(theta, learning_rate_init=0.1, momentum=0)
    >>> optimizer.update_params(theta, np.array([1.0, 1.0]))
    >>> theta
    array([ 0.9, -2.1])
    """

    def __init__(
        self,
        params,
        learning_rate_init=0.1,
        lr_schedule="constant",
        momentum=0.9,
        nesterov=True,
        power_t=0.5,
        *,
        xp=None,
    ):
        super().__init__(params, learning_rate_init, xp=xp)
        self.lr_schedule = lr_schedule
        self.momentum = momentum
        self.nesterov = nesterov
        self.power_t = power_t
        self.velocity = self._xp.zeros_like(params)

    def iteration_ends(self, time_step):
        """Perform updates to the learning rate at the end of an epoch.

        Parameters
        ----------
        time_step : int
            Number of training samples trained on so far, used to update
            the learning rate for 'invscaling'.
        """
        if self.lr_schedule == "invscaling":
            self.learning_rate = (
                float(self.learning_rate_init) / (time_step + 1) ** self.power_t
            )

    def trigger_stopping(self, msg, verbose):
        """Decide whether to stop, or with 'adaptive' to lower the learning rate.

        As :meth:`BaseOptimizer.trigger_stopping`, except that with the
        'adaptive' schedule the learning rate is divided by 5 instead, and
        training stops only once it would fall below 1e-6.
        """
        if self.lr_schedule != "adaptive":
            if verbose:
                print(msg + " Stopping.")
            return True

        if self.learning_rate <= 1e-6:
            if verbose:
                print(msg + " Learning rate too small. Stopping.")
            return True

        self.learning_rate /= 5.0
        if verbose:
            print(msg + " Setting learning rate to %f" % self.learning_rate)
        return False

    def _update_numpy(self, params, grads, part):
        # _update_array_api takes 1.05-1.30x this time at 308,308 parameters
        params, grads = params[part], grads[part]
        velocity, step = self.velocity[part], self._scratch[part]
        np.multiply(grads, self.learning_rate, out=step)
        velocity *= self.momentum
        velocity -= step
        if self.nesterov:
            # momentum * velocity - step, added in two parts because the
            # scratch buffer is needed for the product
            params -= step
            np.multiply(velocity, self.momentum, out=step)
            params += step
        else:
            params += velocity

    def _update_array_api(self, params, grads):
        velocity, step = self.velocity, self._scratch
        step[...] = grads
        step *= self.learning_rate
        velocity *= self.momentum
        velocity -= step
        if self.nesterov:
            params -= step
            step[...] = velocity
            step *= self.momentum
            params += step
        else:
            params += velocity


class AdamOptimizer(BaseOptimizer):
    """Adam, on a flat parameter vector.

    The in-place counterpart of scikit-learn's
    ``sklearn.neural_network._stochastic_optimizers.AdamOptimizer``. At step
    ``t`` the moments become ``m = beta_1 * m + (1 - beta_1) * grad`` and
    ``v = beta_2 * v + (1 - beta_2) * grad ** 2``, the learning rate
    ``learning_rate_init * sqrt(1 - beta_2 ** t) / (1 - beta_1 ** t)`` and the
    parameters move by ``-learning_rate * m / (sqrt(v) + epsilon)``.

    Note: all default values are from the original Adam paper.

    Parameters
    ----------
    params : array of shape (n_parameters,)
        The flat parameter vector, as for :class:`BaseOptimizer`.

    learning_rate_init : float, default=0.001
        The step size before the bias corrections.

    beta_1 : float, default=0.9
        Exponential decay rate for estimates of first moment vector, should be
        in [0, 1).

    beta_2 : float, default=0.999
        Exponential decay rate for estimates of second moment vector, should be
        in [0, 1).

    epsilon : float, default=1e-8
        Value for numerical stability.

    xp : module, default=None
        The namespace of ``params`` (None infers it).

    Attributes
    ----------
    learning_rate : float
        The current learning rate, bias corrections included (that of the
        last step).

    t : int
        Timestep: the number of updates so far.

    first_moment : array of shape (n_parameters,)
        First moment vector ``m``.

    second_moment : array of shape (n_parameters,)
        Second moment vector ``v``.

    See Also
    --------
    SGDOptimizer : Stochastic gradient descent with momentum.

    References
    ----------
    :arxiv:`Kingma, Diederik, and Jimmy Ba (2014) "Adam: A method for
    stochastic optimization." <1412.6980>`

    Examples
    --------
    >>> import numpy as np
    >>> from skl_sparseae._optimizers import AdamOptimizer
    >>> theta = np.array([1.0, -2.0])
    >>> optimizer = AdamOptimizer(theta, learning_rate_init=0.1)
    >>> optimizer.update_params(theta, np.array([3.0, -0.5]))
    >>> theta.round(6), optimizer.t
    (array([ 0.9, -1.9]), 1)
    """

    def __init__(
        self,
        params,
        learning_rate_init=0.001,
        beta_1=0.9,
        beta_2=0.999,
        epsilon=1e-8,
        *,
        xp=None,
    ):
        super().__init__(params, learning_rate_init, xp=xp)
        self.beta_1 = beta_1
        self.beta_2 = beta_2
        self.epsilon = epsilon
        self.t = 0
        self.first_moment = self._xp.zeros_like(params)
        self.second_moment = self._xp.zeros_like(params)

    def _next_learning_rate(self):
        self.t += 1
        self.learning_rate = (
            self.learning_rate_init
            * math.sqrt(1 - self.beta_2**self.t)
            / (1 - self.beta_1**self.t)
        )

    def _start_step(self):
        self._next_learning_rate()

    def _update_numpy(self, params, grads, part):
        # _update_array_api takes 1.10-1.42x this time at 308,308 parameters
        params, grads = params[part], grads[part]
        m, v = self.first_moment[part], self.second_moment[part]
        scratch = self._scratch[part]
        m *= self.beta_1
        m += np.multiply(grads, 1 - self.beta_1, out=scratch)
        v *= self.beta_2
        np.multiply(grads, grads, out=scratch)
        scratch *= 1 - self.beta_2
        v += scratch
        np.sqrt(v, out=scratch)
        scratch += self.epsilon
        np.divide(m, scratch, out=scratch)
        scratch *= self.learning_rate
        params -= scratch

    def _update_array_api(self, params, grads):
        m, v, scratch = self.first_moment, self.second_moment, self._scratch
        self._next_learning_rate()
        m *= self.beta_1
        scratch[...] = grads
        scratch *= 1 - self.beta_1
        m += scratch
        v *= self.beta_2
        scratch[...] = grads
        scratch *= grads
        scratch *= 1 - self.beta_2
        v += scratch
        # The standard's sqrt has no out=: the one temporary of the step.
        denominator = self._xp.sqrt(v)
        denominator += self.epsilon
        scratch[...] = m
        scratch /= denominator
        scratch *= self.learning_rate
        params -= scratch
