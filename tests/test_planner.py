from hypothesis import given, strategies as st

from edgeleak.quantize.planner import ALIGNMENT, Buffer, plan_arena

buffers = st.lists(
    st.tuples(st.integers(1, 5000), st.integers(0, 20), st.integers(0, 10)), min_size=1, max_size=25,
).map(lambda items: [Buffer(k, size, first, first + span) for k, (size, first, span) in enumerate(items)])


@given(buffers)
def test_live_buffers_never_overlap(bufs):
    offsets, total = plan_arena(bufs)
    for a in bufs:
        assert offsets[a.key] % ALIGNMENT == 0
        assert offsets[a.key] + a.size <= total
        for b in bufs:
            if a.key < b.key and not (a.last < b.first or b.last < a.first):
                assert offsets[a.key] + a.size <= offsets[b.key] or offsets[b.key] + b.size <= offsets[a.key]


def test_buffers_with_disjoint_lifetimes_share_memory():
    offsets, total = plan_arena([Buffer(0, 1000, 0, 1), Buffer(1, 1000, 2, 3)])
    assert offsets[0] == offsets[1] == 0 and total == 1008  # 1000 rounded up to the alignment
