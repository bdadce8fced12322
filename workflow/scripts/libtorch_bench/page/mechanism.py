"""What mechanism.csv says about each claim, in sentences: one function per derivation the
registry can name (libtorch_bench.mechanism.DERIVATIONS)."""

from .. import format as fmt


def spikes(part):
    items = []
    wide = part.pivot_table(
        index=["libtorch", "device", "front", "variant"],
        columns="quantity",
        values="value",
        aggfunc="sum",
        fill_value=0,
    )
    for (libtorch, device, _front, variant), r in wide.iterrows():
        count = int(r.get("spikes", 0))
        if not count:
            continue
        events = ", ".join(f"{q.split(':', 1)[1]} ×{int(v)}" for q, v in r.items() if str(q).startswith("event:") and v)
        items.append(
            f"libtorch {libtorch} on {device}, {variant}: {count} spikes in {int(r.get('calls', 0))} calls; "
            f"{int(r.get('spikes_at_new_shape', 0))} on the first call with a new input shape, "
            f"{int(r.get('spikes_on_event_same_shape', 0))} more on calls the runner marked with an event"
            + (f" (events seen: {events})" if events else "")
        )
    return items or ["No variant had a spike in any scenario."]


def per_row(part):
    items = []
    for (libtorch, device, _front, case), g in part[part.quantity == "per_row_ns"].groupby(
        ["libtorch", "device", "front", "case"], sort=False
    ):
        values = dict(zip(g["variant"], g["value"]))
        if {"rows_from_blob_vstack", "flat_from_blob"} <= set(values):
            floor = values.get("floor_memcpy", float("nan"))
            items.append(
                f"libtorch {libtorch} on {device}, {case}: each extra row costs "
                f"{fmt.duration(values['rows_from_blob_vstack'])} with from_blob + vstack, "
                f"{fmt.duration(values['flat_from_blob'])} with one from_blob over a flat vector, "
                f"{fmt.duration(floor)} for a plain copy"
            )
    return items


def conversion(part):
    """A conversion cost measured as a difference of medians can come out below zero: noise around
    nothing, said as 'below resolution', never as a negative time."""
    items = []
    share = part[part.quantity == "conversion_share"]
    for (libtorch, device, front), g in part[part.quantity == "conversion_ns"].groupby(
        ["libtorch", "device", "front"], sort=False
    ):
        s = share[(share.libtorch == libtorch) & (share.device == device) & (share.front == front)]["value"]
        costs = fmt.duration_or_below(g["value"].min()), fmt.duration_or_below(g["value"].max())
        shares = [f"{100 * v:.0f}%" if v > 0 else "below resolution" for v in (s.min(), s.max())]
        items.append(
            f"libtorch {libtorch} on {device}"
            + ("" if front == "cpp" else f" ({front})")
            + f": one mask → indices conversion costs {costs[0]} to {costs[1]} depending on size and density, "
            f"{shares[0]} to {shares[1]} of each mask-indexing call"
        )
    return items


SENTENCES = {"claim1.spikes": spikes, "claim2.per_row": per_row, "claim3.conversion": conversion}


def mechanism_items(mechanism, claim):
    """Sentences for the claim's mechanism, or None when there is no data for it."""
    part = mechanism[mechanism.claim == claim.id]
    if not claim.mechanism or part.empty:
        return None
    return SENTENCES[claim.mechanism](part)
