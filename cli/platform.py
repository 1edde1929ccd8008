"""guapai platform — a SIMULATED vehicle-monitoring platform for drills and the demo."""
from __future__ import annotations

import typer

from cli import context, output

app = typer.Typer(help="A SIMULATED vehicle-monitoring platform (模拟监控平台).", no_args_is_help=True)


@app.command("serve")
def serve(
    port: int = typer.Option(8808, "--port"),
    seed: int = typer.Option(1, "--seed", help="Seed of the simulated trajectories."),
    token: str = typer.Option("sim-token", "--token", envvar="GUAPAI_PLATFORM_TOKEN", show_default=False,
                              help="Bearer token the simulator accepts (default: sim-token)."),
    faults: str = typer.Option("", "--faults", help="e.g. slow=0.1,error_500=0.05,truncated=0.02,missing=0.01,garbage=0.01,offline=0.02"),
) -> None:
    """Serve positions for the vehicles in the database (deterministic from the seed), with
    planted violations and optional faults, on 127.0.0.1 until stopped."""
    import time

    from listing.simulation.platform import Faults, start_simulator
    from listing.store.tables import Vehicle
    from sqlmodel import select

    with context.session(readonly=True) as session:
        vehicles = {plate: cls for plate, cls in session.exec(select(Vehicle.plate, Vehicle.vehicle_class)).all()}
    handle = start_simulator(vehicles, seed=seed, token=token, faults=Faults.parse(faults), port=port)
    output.message(output.tr("msg.platform_serving", url=handle.url, n=len(vehicles)))
    try:
        while True:
            time.sleep(3600)
    except KeyboardInterrupt:
        handle.stop()
