"""The public PyTorch peer's search iteration, for bench/search.ts.

Builds the peer's supernet (bench/peer/, NoamRosenberg/autodeeplab, unchanged)
and its optimisers as its train_autodeeplab.py does for the search, and runs
one iteration of that script's search loop on random data: SGD weight step on
a trainA batch, then the architect step (Adam on alphas and betas) on a trainB
batch. Not reproduced: data loading, the learning-rate scheduler (it only sets
the lr), tensorboard, apex (off by default there).

Usage: python3 peer_search.py CROP THREADS [--layers 12 --filter 8 --block 5
--step 5 --classes 19 --batch 2]. Builds the model, runs one untimed warm-up
iteration, prints 'ready'; then answers one line per stdin line (the protocol
of bench/reference.ts' PythonReference):
  iteration  -> seconds for one timed iteration
  peak_rss   -> this process's peak resident set size in bytes (VmHWM)
  checksum   -> JSON {"weights", "alphas", "betas"}: sums of |x|, so a caller
                can check that both steps move their parameters.
"""
import argparse
import json
import os
import sys
import time
import types

sys.dont_write_bytecode = True  # no __pycache__ in the source tree
import torch
import torch.nn as nn

PEER = os.path.join(os.path.dirname(os.path.abspath(__file__)), 'peer')


def stand_in(name):
    """A class for an import the search step never uses: it raises if used."""
    def refuse(*args, **kwargs):
        raise RuntimeError(f'{name} is not vendored (bench/peer/README.md): the search step should not need it')
    return type(name, (), {'__init__': refuse})


def stub_unused_imports():
    """operations.py imports the CUDA-compiled in-place ABN and sync BN; the
    search builds every op with use_ABN=False. auto_deeplab.py's Decoder serves
    only genotype(). See bench/peer/README.md."""
    names = {
        'modeling': {}, 'modeling.sync_batchnorm': {},
        'modeling.sync_batchnorm.batchnorm': {'SynchronizedBatchNorm2d': stand_in('SynchronizedBatchNorm2d')},
        'modeling.modules': {'InPlaceABNSync': stand_in('InPlaceABNSync')},
        'decoding_formulas': {'Decoder': stand_in('Decoder')},
    }
    for name, attrs in names.items():
        module = types.ModuleType(name)
        module.__dict__.update(attrs)
        sys.modules[name] = module


def main():
    p = argparse.ArgumentParser()
    p.add_argument('crop', type=int)
    p.add_argument('threads', type=int)
    # The peer's search defaults (config_utils/search_args.py; 12 layers and
    # 19 Cityscapes classes as train_autodeeplab.py builds them), batch 2.
    p.add_argument('--layers', type=int, default=12)  # at least 3: its forward reads level 32 from layer 2 on
    p.add_argument('--filter', type=int, default=8)
    p.add_argument('--block', type=int, default=5)
    p.add_argument('--step', type=int, default=5)
    p.add_argument('--classes', type=int, default=19)
    p.add_argument('--batch', type=int, default=2)
    args = p.parse_args()

    torch.set_num_threads(args.threads)
    torch.manual_seed(1)  # search_args.py's default seed
    # AutoDeeplab.forward allocates its beta buffer with .cuda(); everything here runs on the CPU.
    torch.Tensor.cuda = lambda self, *a, **k: self
    stub_unused_imports()
    sys.path.insert(0, PEER)
    from auto_deeplab import AutoDeeplab

    # utils/loss.py's SegmentationLosses(...).build_loss('ce'), without class weights.
    def criterion(logit, target):
        return nn.CrossEntropyLoss(weight=None, ignore_index=255, reduction='mean')(logit, target.long())

    # train_autodeeplab.py, Trainer.__init__ (lr, momentum and decays: search_args.py's defaults).
    model = AutoDeeplab(args.classes, args.layers, criterion, args.filter, args.block, args.step)
    optimizer = torch.optim.SGD(model.weight_parameters(), 0.025, momentum=0.9, weight_decay=3e-4)
    architect_optimizer = torch.optim.Adam(model.arch_parameters(), lr=3e-3, betas=(0.9, 0.999), weight_decay=1e-3)
    model.train()

    def batch():
        image = torch.randn(args.batch, 3, args.crop, args.crop)
        return image, torch.randint(0, args.classes, (args.batch, args.crop, args.crop))

    def iteration():
        """Trainer.training's loop body for one sample, after alpha_epoch."""
        image, target = batch()
        optimizer.zero_grad()
        output = model(image)
        loss = criterion(output, target)
        loss.backward()
        optimizer.step()
        image_search, target_search = batch()
        architect_optimizer.zero_grad()
        output_search = model(image_search)
        arch_loss = criterion(output_search, target_search)
        arch_loss.backward()
        architect_optimizer.step()
        return loss.item()

    def checksum():
        total = lambda ps: sum(float(q.detach().abs().sum()) for q in ps)
        return json.dumps({'weights': total(model.weight_parameters()), 'alphas': total([model.alphas]), 'betas': total([model.betas])})

    def peak_rss():
        with open('/proc/self/status') as f:
            return next(int(line.split()[1]) * 1024 for line in f if line.startswith('VmHWM:'))

    def timed():
        t0 = time.perf_counter()
        iteration()
        return time.perf_counter() - t0

    iteration()  # warm-up, untimed
    answers = {'iteration': timed, 'peak_rss': peak_rss, 'checksum': checksum}
    print('ready', flush=True)
    for line in sys.stdin:
        request = line.strip()
        if request not in answers:
            sys.exit(f'peer_search.py: unknown request {request!r}; expected one of {", ".join(answers)}')
        print(answers[request](), flush=True)


if __name__ == '__main__':
    main()
