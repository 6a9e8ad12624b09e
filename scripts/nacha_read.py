#!/usr/bin/env python3
"""Reads a Hashcart payout file back with carta-ach (PyPI), a NACHA parser nobody at Hashcart wrote.

    nacha_read.py FILE

carta-ach's Parser splits the file into its records and fields by NACHA's positions. This script
then recomputes, from the parsed entries alone, every total the file's control records claim:
per batch the entry count, entry hash (sum of the receiving banks' 8-digit routing prefixes,
last 10 digits) and credit total; for the file the batch count, entry count, entry hash, credit
total and block count. It prints one JSON object with the figures and the entries, and a list of
"problems" (empty when the file is consistent), so the caller compares them with its own store.
"""
import json
import sys

from ach.parser import Parser


def main():
    path = sys.argv[1]
    with open(path, "rb") as handle:
        raw = handle.read()
    problems = []
    try:
        text = raw.decode("ascii")
    except UnicodeDecodeError:
        problems.append("not ASCII")
        text = raw.decode("ascii", errors="replace")
    lines = text.split("\n")
    if lines and lines[-1] == "":
        lines = lines[:-1]
    for number, line in enumerate(lines, 1):
        if len(line) != 94:
            problems.append(f"record {number} is {len(line)} characters, not 94")
    if len(lines) % 10 != 0:
        problems.append(f"{len(lines)} records are not blocked to a multiple of 10")

    parsed = Parser("\n".join(lines)).as_dict()
    header = parsed["file_header"]
    control = parsed["file_control"]
    if header["record_size"] != "094" or header["blk_factor"] != "10" or header["format_code"] != "1":
        problems.append(f"file header record size {header['record_size']}, blocking {header['blk_factor']}")

    entries = []
    file_hash = 0
    file_credit = 0
    file_debit = 0
    for index, batch in enumerate(parsed["batches"], 1):
        bh, bc = batch["batch_header"], batch["batch_control"]
        if bh["std_ent_cls_code"] != "CCD" or bh["serv_cls_code"] != "220":
            problems.append(f"batch {index} is {bh['std_ent_cls_code']} class {bh['serv_cls_code']}, not CCD 220")
        batch_hash = 0
        batch_credit = 0
        batch_debit = 0
        for entry in batch["entries"]:
            detail = entry["entry_detail"]
            code = detail["transaction_code"]
            amount = int(detail["amount"])
            if code in ("22", "32"):
                batch_credit += amount
            elif code in ("27", "37"):
                batch_debit += amount
            else:
                problems.append(f"entry {detail['trace_num']} has transaction code {code}")
            batch_hash += int(detail["recv_dfi_id"])
            entries.append({
                "batch": index,
                "transaction_code": code,
                "routing": detail["recv_dfi_id"] + detail["check_digit"],
                "account": detail["dfi_acnt_num"].rstrip(),
                "amount": amount,
                "identification": detail["ind_id"].rstrip(),
                "name": detail["ind_name"].rstrip(),
                "trace": detail["trace_num"],
                "settlement_date": bh["desc_date"],
            })
        if int(bc["entadd_count"]) != len(batch["entries"]):
            problems.append(f"batch {index} control counts {bc['entadd_count']} entries, the batch has {len(batch['entries'])}")
        if int(bc["entry_hash"]) != batch_hash % 10**10:
            problems.append(f"batch {index} entry hash {bc['entry_hash']} != {batch_hash % 10**10}")
        if int(bc["credit_amount"]) != batch_credit or int(bc["debit_amount"]) != batch_debit:
            problems.append(f"batch {index} control totals {bc['credit_amount']}/{bc['debit_amount']} != {batch_credit}/{batch_debit}")
        # carta-ach names the batch control's batch number (positions 88-94) orig_dfi_id, like
        # the ODFI id before it, so the later one wins: compare it with the header's batch number.
        if bc["orig_dfi_id"] != bh["batch_id"]:
            problems.append(f"batch {index} header and control numbers differ: {bh['batch_id']} / {bc['orig_dfi_id']}")
        file_hash += batch_hash
        file_credit += batch_credit
        file_debit += batch_debit

    if int(control["batch_count"]) != len(parsed["batches"]):
        problems.append(f"file control counts {control['batch_count']} batches, the file has {len(parsed['batches'])}")
    if int(control["entadd_count"]) != len(entries):
        problems.append(f"file control counts {control['entadd_count']} entries, the file has {len(entries)}")
    if int(control["entry_hash"]) != file_hash % 10**10:
        problems.append(f"file entry hash {control['entry_hash']} != {file_hash % 10**10}")
    if int(control["credit_amount"]) != file_credit or int(control["debit_amount"]) != file_debit:
        problems.append(f"file control totals {control['credit_amount']}/{control['debit_amount']} != {file_credit}/{file_debit}")
    records_before_filler = next((i for i, line in enumerate(lines) if line.startswith("9") and line != "9" * 94), len(lines)) + 1
    if int(control["block_count"]) != (records_before_filler + 9) // 10:
        problems.append(f"file control says {control['block_count']} blocks for {records_before_filler} records")
    if len(set(e["trace"] for e in entries)) != len(entries):
        problems.append("trace numbers repeat")

    print(json.dumps({
        "problems": problems,
        "batch_count": len(parsed["batches"]),
        "entry_count": len(entries),
        "entry_hash": file_hash % 10**10,
        "total_credit": file_credit,
        "total_debit": file_debit,
        "block_count": int(control["block_count"]),
        "immediate_destination": header["immediate_dest"].strip(),
        "file_id_modifier": header["file_id_mod"],
        "entries": entries,
    }, sort_keys=True))


if __name__ == "__main__":
    main()
