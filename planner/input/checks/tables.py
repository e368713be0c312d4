"""The table sheets: the master lists (Products, Fabs, HBMVendors, Sites, Workloads, Partners) and the sheets
that link them (Routes, HBMQualification, Throughput, ...), checked against the masters and typed."""

from __future__ import annotations

from dataclasses import dataclass

import pandas as pd

from planner.input.checks.rows import Row, ValidationContext, read_table, to_frame

# (sheet, its key column), in the order they are read: a master may refer only to those before it
MASTER_SHEETS = (("Products", "product"), ("Fabs", "fab"), ("HBMVendors", "vendor"), ("Sites", "site"),
                 ("Workloads", "workload"), ("Partners", "partner"))
LINK_SHEETS = ("Routes", "HBMQualification", "Throughput", "ServingLinks", "SiteExpansion", "InstalledBase",
               "PartnerSites", "PackagingExpansion")


@dataclass
class TableRows:
    """The rows of every table sheet: masters with every row of valid keys (so a bad value is not reported again
    as an unknown reference), link sheets with their good rows only."""
    masters: dict[str, list[Row]]  # by sheet
    links: dict[str, list[Row]]  # by sheet, good rows only
    known: dict[str, set]  # master sheet -> its keys, for the references of later sheets


@dataclass
class Tables:
    """The table sheets as the model takes them."""
    products: pd.DataFrame
    fabs: pd.DataFrame
    routes: pd.DataFrame
    vendors: pd.DataFrame
    sites: pd.DataFrame
    expansion: pd.DataFrame
    workloads: pd.DataFrame
    partners: pd.DataFrame  # without first_t / last_t (those need the horizon: planner.input.checks.dated)
    qualified: list[tuple[str, str]]  # (vendor, product)
    throughput: dict[tuple[str, str], float]  # (product, workload) -> tok/s per chip
    links: set[tuple[str, str]]  # (site, region), own region included
    partner_sites: list[tuple[str, str]]  # (partner, site)


def read_table_rows(ctx: ValidationContext) -> TableRows:
    """Read the masters in order, each checked against those before it, then the link sheets against all."""
    known: dict[str, set] = {}
    masters: dict[str, list[Row]] = {}
    for sheet, key in MASTER_SHEETS:
        masters[sheet] = read_table(ctx, sheet, known)
        known[sheet] = {r.values[key] for r in masters[sheet]}
    links = {sheet: [r for r in read_table(ctx, sheet, known) if r.ok] for sheet in LINK_SHEETS}
    return TableRows(masters, links, known)


def build_tables(rows: TableRows) -> Tables:
    """The frames and key sets of the table sheets (no checks: every problem is reported while reading)."""
    masters, links = rows.masters, rows.links
    sites = to_frame("Sites", masters["Sites"], ["site"])
    serving = {(s, region) for s, region in zip(sites.index, sites["region"])}
    serving |= {(r.values["site"], r.values["region"]) for r in links["ServingLinks"]}
    return Tables(
        products=to_frame("Products", masters["Products"], ["product"]),
        fabs=to_frame("Fabs", masters["Fabs"], ["fab"]),
        routes=to_frame("Routes", links["Routes"], ["product", "fab"]),
        vendors=to_frame("HBMVendors", masters["HBMVendors"], ["vendor"]),
        sites=sites,
        expansion=to_frame("SiteExpansion", links["SiteExpansion"], ["site"]),
        workloads=to_frame("Workloads", masters["Workloads"], ["workload"]),
        partners=to_frame("Partners", masters["Partners"], ["partner"]),
        qualified=sorted({(r.values["vendor"], r.values["product"]) for r in links["HBMQualification"]}),
        throughput={(r.values["product"], r.values["workload"]): float(r.values["tokens_per_s_per_chip"])
                    for r in links["Throughput"]},
        links=serving,
        partner_sites=sorted({(r.values["partner"], r.values["site"]) for r in links["PartnerSites"]}))
