"""The replay bench's floor (``bench.bench_replay.floor_rate``) is a fair measuring stick: on the synthetic
archive it charges exactly what the replay charges (sessions, fen, totals per operator and day, fingerprints),
so the two rates compare the same work with and without the planner's rules."""

from bench.bench_replay import floor_rate, generate, lots, replay_rate


def test_the_floor_charges_what_the_replay_charges(tmp_path):
    lot_map = lots(20)
    archive = tmp_path / "archive.jsonl"
    generate(archive, 8000, list(lot_map))  # past the generator's 5,000 parked cars: exits flow
    _, replay = replay_rate(archive, lot_map)
    _, floor = floor_rate(archive, lot_map)
    assert replay.sessions_charged > 1000
    assert (floor.sessions_charged, floor.replayed_fen) == (replay.sessions_charged, replay.replayed_fen)
    assert floor.totals == replay.totals
    assert floor.fingerprints == replay.fingerprints
