"""Optimisers (PyTorch's rules, persistent state) and learning-rate schedules."""

import numpy as np
import pytest

from cnnbp import Parameter, optim


def _param(values, grad):
    p = Parameter(np.array(values, dtype=np.float64))
    p.grad[...] = grad
    return p


def test_plain_sgd_step():
    p = _param([1.0, 2.0], [0.5, -1.0])
    optim.SGD([p], lr=0.1).step()
    np.testing.assert_allclose(p.data, [0.95, 2.1])


def test_sgd_momentum_buffer_persists_across_steps():
    p = _param([0.0], [1.0])
    opt = optim.SGD([p], lr=1.0, momentum=0.9)
    opt.step()  # buf = 1
    opt.step()  # buf = 0.9 + 1 = 1.9
    np.testing.assert_allclose(p.data, [-2.9])
    np.testing.assert_allclose(opt.state[0]["momentum_buffer"], [1.9])


def test_sgd_nesterov_and_weight_decay():
    p = _param([1.0], [0.0])
    opt = optim.SGD([p], lr=0.1, momentum=0.5, nesterov=True, weight_decay=1.0)
    opt.step()  # g = 1, buf = 1, step = g + 0.5 * buf = 1.5
    np.testing.assert_allclose(p.data, [0.85])


def test_adam_first_step_moves_by_lr_times_sign():
    p = _param([1.0, -1.0], [3.0, -0.2])
    opt = optim.Adam([p], lr=0.01)
    opt.step()
    np.testing.assert_allclose(p.data, [0.99, -0.99], rtol=1e-6)
    assert opt.state[0]["step"] == 1


def test_adam_state_round_trip_continues_identically():
    rng = np.random.default_rng(0)
    grads = rng.normal(size=(6, 3))
    a, b = _param(np.ones(3), 0), _param(np.ones(3), 0)
    oa = optim.Adam([a], lr=0.1, weight_decay=0.01)
    for g in grads[:3]:
        a.grad[...] = g
        oa.step()
    b.data[...] = a.data
    ob = optim.Adam([b], lr=0.5)
    ob.load_state_dict(oa.state_dict())
    assert ob.lr == 0.1 and ob.weight_decay == 0.01
    for g in grads[3:]:
        a.grad[...] = g
        b.grad[...] = g
        oa.step()
        ob.step()
    np.testing.assert_array_equal(a.data, b.data)


def test_state_dict_rejects_another_optimiser_or_shape():
    p = _param([1.0], [1.0])
    sgd = optim.SGD([p], lr=0.1, momentum=0.9)
    sgd.step()
    with pytest.raises(ValueError, match="SGD"):
        optim.Adam([p]).load_state_dict(sgd.state_dict())
    q = _param([1.0, 2.0], [1.0, 1.0])
    with pytest.raises(ValueError, match="shape"):
        optim.SGD([q], lr=0.1, momentum=0.9).load_state_dict(sgd.state_dict())


@pytest.mark.parametrize("kwargs,match", [
    ({"lr": -1.0}, "learning rate"),
    ({"lr": 0.1, "nesterov": True}, "Nesterov"),
    ({"lr": 0.1, "momentum": -0.5}, "momentum"),
])
def test_sgd_rejects_bad_hyperparameters(kwargs, match):
    with pytest.raises(ValueError, match=match):
        optim.SGD([_param([1.0], [0.0])], **kwargs)


def test_optimiser_rejects_plain_arrays():
    with pytest.raises(TypeError, match="Parameter"):
        optim.SGD([np.zeros(3)], lr=0.1)


def test_lenet5_epoch_list_schedule():
    opt = optim.SGD([_param([1.0], [0.0])], lr=1.0)
    sched = optim.EpochListLR(opt, optim.LENET5_LRS)
    seen = [opt.lr]
    for _ in range(13):
        seen.append(sched.step())
    assert seen[:6] == [5e-4, 5e-4, 2e-4, 2e-4, 2e-4, 1e-4]
    assert seen[8:12] == [5e-5] * 4 and seen[12] == 1e-5 and seen[13] == 1e-5


def test_step_and_cosine_schedules():
    opt = optim.SGD([_param([1.0], [0.0])], lr=1.0)
    step = optim.StepLR(opt, step_size=2, gamma=0.5)
    assert [step.step() for _ in range(4)] == [1.0, 0.5, 0.5, 0.25]
    opt.lr = 1.0
    cos = optim.CosineLR(opt, t_max=4, eta_min=0.0)
    lrs = [cos.step() for _ in range(5)]
    np.testing.assert_allclose(lrs, [0.8535533905932737, 0.5, 0.14644660940672627, 0.0, 0.0])


def test_schedule_state_round_trip():
    opt = optim.SGD([_param([1.0], [0.0])], lr=1.0)
    sched = optim.StepLR(opt, step_size=1, gamma=0.1)
    sched.step()
    sched.step()
    opt2 = optim.SGD([_param([1.0], [0.0])], lr=1.0)
    sched2 = optim.StepLR(opt2, step_size=1, gamma=0.1)
    sched2.load_state_dict(sched.state_dict())
    assert opt2.lr == pytest.approx(0.01) and sched2.epoch == 2
