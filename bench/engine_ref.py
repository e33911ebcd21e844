"""PyTorch reference for bench/engine.ts: the same computations, timed the same way.
Usage: python3 engine_ref.py CASES_JSON THREADS; then one case name per stdin line,
answered by one line: seconds per iteration for one timed round (after a warm-up
on first use). The caller interleaves these rounds with its own."""
import json, sys, time
import torch
import torch.nn.functional as F

cases = json.load(open(sys.argv[1]))
torch.set_num_threads(int(sys.argv[2]))
torch.manual_seed(0)

steps = {}
iters = {}

def conv_step(c):
    x = torch.randn(*c["x"], requires_grad=True)
    w = torch.randn(*c["w"], requires_grad=True)
    def step():
        y = F.conv2d(x, w, None, c["stride"], c["padding"], c["dilation"], c["groups"])
        y.sum().backward()
        x.grad = None
        w.grad = None
    return step

for c in cases["conv"]:
    steps[c["name"]] = conv_step(c)
    iters[c["name"]] = c["iters"]

n = cases["cnn"]
ws = []
cin = 3
for i in range(n["layers"]):
    ws.append((torch.randn(n["channels"], cin, 3, 3) * (2 / (9 * cin)) ** 0.5).requires_grad_())
    cin = n["channels"]
gammas = [torch.ones(n["channels"], requires_grad=True) for _ in range(n["layers"])]
betas = [torch.zeros(n["channels"], requires_grad=True) for _ in range(n["layers"])]
rms = [torch.zeros(n["channels"]) for _ in range(n["layers"])]
rvs = [torch.ones(n["channels"]) for _ in range(n["layers"])]
head = (torch.randn(n["classes"], n["channels"], 1, 1) * 0.1).requires_grad_()
params = ws + gammas + betas + [head]
opt = torch.optim.SGD(params, lr=0.01, momentum=0.9, weight_decay=1e-4)
xb = torch.randn(n["batch"], 3, n["size"], n["size"])
yb = torch.randint(0, n["classes"], (n["batch"], n["size"], n["size"]))
def train_step():
    opt.zero_grad(set_to_none=True)
    h = xb
    for i in range(n["layers"]):
        h = F.relu(F.batch_norm(F.conv2d(h, ws[i], None, 1, 1), rms[i], rvs[i], gammas[i], betas[i], True, 0.1, 1e-5))
    loss = F.cross_entropy(F.conv2d(h, head), yb)
    loss.backward()
    opt.step()
steps[n["name"]] = train_step
iters[n["name"]] = n["iters"]

warm = set()
print("ready", flush=True)
for line in sys.stdin:
    name = line.strip()
    if name not in warm:
        steps[name]()
        warm.add(name)
    t = time.perf_counter()
    for _ in range(iters[name]):
        steps[name]()
    print((time.perf_counter() - t) / iters[name], flush=True)
