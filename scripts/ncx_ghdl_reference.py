"""Reference traces of the NeuroCoreX VHDL, simulated with GHDL, for the chip profile's tests.

How the fixture ``tests/engines/spiking/data/ncx_chip_ghdl.npz`` was made (GHDL 2.0.0, mcode)::

    apt-get install -y ghdl
    git clone https://github.com/ORNL/NeuroCoreX /tmp/NeuroCoreX     # the VHDL is not kept here
    python scripts/ncx_ghdl_reference.py --vhdl /tmp/NeuroCoreX/vhdl_src \\
        --out tests/engines/spiking/data/ncx_chip_ghdl.npz

What it does:

* copies ``LIF_unit.vhd``, ``Core_engine.vhd``, ``Trig_LIF.vhd`` and the five RAM files to a work
  folder and changes three things that only a simulator minds: the 3-bit ``bit_count`` of the STDP
  enable loader gets the range ``0 to 8`` (on the chip the counter wraps; the simulator stops on the
  overflow), the RAMs get 16384 words addressed by the low 14 address bits (the STDP scans read
  one row past the 96 x 96 matrix, which the simulator refuses and a 16K block RAM tolerates), and
  the feed-forward potentiation write address is converted with ``to_signed`` (its first write of a
  scan can be negative, ``-96 + slot``, which ``to_unsigned`` refuses and the hardware wraps);
* adds behavioural stand-ins for the two Xilinx FIFO cores (standard FIFO, read latency 1, as the
  project's ``.xci`` files configure them) and a test bench written here that loads thresholds,
  refractory maxima, leaks, STDP parameters, the debug bias, both weight RAMs and the STDP enable
  bits as the UART sorter does, then runs trigger rounds (96 slow clocks of 1000 fast clocks each,
  the trigger from ``Trig_LIF.vhd``) and sends each step's input addresses from slot 1 of a round;
* records ``PORT_vout``, the spike output and the slot counter of the core as a VCD and cuts it into
  rounds: for each round and slot, the membrane written back and whether the slot fired.

Each case keeps its random settings (unequal thresholds, refractory maxima, leak registers, a debug
bias, random weights with repeated input addresses), the state the first recorded round starts from,
and the expected rounds. The test replays them on :class:`~engines.spiking.neurocorex.NeuroCoreXEngine`.

The STDP cases (``stdp_*``) also load the STDP registers (``stdp_params`` 0-2: the window lengths and
``dw_pos``/``dw_neg``) and random enable bits for both matrices, start with a quiet round (no input,
the bias below every threshold), and record the write ports of both weight RAMs with the scans'
``toggle_write`` flags; replaying the writes gives every word of both RAMs after each round
(``ram_ff_after``/``ram_aa_after``, rows 0-96) and the number of writes of each kind (``n_writes``:
feed-forward potentiation, depression, lateral potentiation, depression). ``--cases`` reruns some
cases and keeps the others of ``--out``; ``--debug`` records more of the fast clock (the window RAMs'
write ports, the input bus) in the VCDs of ``--work``.
"""

from __future__ import annotations

import argparse
import re
import shutil
import subprocess
import sys
import tempfile
from pathlib import Path

import numpy as np

TB = r"""
library IEEE; use IEEE.STD_LOGIC_1164.ALL; use IEEE.NUMERIC_STD.ALL; use std.textio.all;
entity tb is generic (stim : string := "stim.txt"); end;
architecture t of tb is
  signal clkf, clks : std_logic := '0';
  signal en_input, spike_in, triger, start, rst_t, rd_w : std_logic := '0';
  signal uart_i : signed(17 downto 0) := (others => '0');
  signal na : std_logic_vector(15 downto 0) := (others => '0');
  signal w_aa, w_ff, stdp_byte : std_logic_vector(7 downto 0) := (others => '0');
  signal nparam, ndebug : std_logic_vector(17 downto 0) := (others => '0');
  signal en_ff, en_aa, en_rd_aa, en_par, en_dbg, en_stdp, send_ready : std_logic := '0';
  signal div : integer := 0; signal done : boolean := false; signal cni : integer := 0;
begin
  clkf <= not clkf after 5 ns when not done;
  process(clkf) begin
    if rising_edge(clkf) then
      if div = 499 then clks <= not clks; div <= 0; else div <= div + 1; end if;
    end if;
  end process;
  process(clks) begin
    if rising_edge(clks) then
      if triger = '1' then cni <= 0; else cni <= cni + 1; end if;
    end if;
  end process;
  trig : entity work.triger_generator port map (CLK => clks, TRIGER => triger, ACTIVATE_TRIGER => start);
  dut : entity work.LIF_unit port map (CLK => clks, CLK100M => clkf, en_Input => en_input, SPIKE_IN => spike_in,
    TRIGER => triger, START_TRIGER => start, RESET_TRIGER => rst_t, READ_WEIGHT => rd_w, UART_RXD_I => uart_i,
    NEURON_ADDRESS => na, WEIGHT_AA => w_aa, WEIGHT_FF => w_ff, N_PARAM_IN => nparam, N_DEBUG_IN => ndebug,
    N_STDP_FLAG_D_IN => stdp_byte, EN_LOAD_FF_W => en_ff, EN_LOAD_AA_W => en_aa, EN_READ_AA_W => en_rd_aa,
    EN_LOAD_N_PARAM => en_par, EN_LOAD_N_DEBUG => en_dbg, EN_LOAD_N_STDP_FLAG => en_stdp,
    SEND_READY_SOUT => send_ready, ILA_DEBUG => open, WEIGHT_AA_TX => open, WRITE_WEIGHT_AA_Tx => open,
    UART_TXD_V => open, UART_TXD_I => open, Spike_OUT_Tx => open, en_SOUT_Tx => open, en_flag_READ_DONE => open);
  driver : process
    file fi : text open read_mode is stim;
    variable l : line; variable x, nsteps, k : integer;
    type iarr is array (natural range <>) of integer;
    variable addrs : iarr(0 to 1023);
    variable b : std_logic_vector(7 downto 0);
    procedure tick is begin wait until rising_edge(clkf); end procedure;
    procedure rd(variable v : out integer) is variable ok : boolean; begin
      loop read(l, v, ok); exit when ok; readline(fi, l); end loop;
    end procedure;
  begin
    readline(fi, l); rd(nsteps);
    for i in 1 to 20 loop tick; end loop;
    for i in 0 to 383 loop rd(x); nparam <= std_logic_vector(to_signed(x, 18)); en_par <= '1'; tick; end loop;
    en_par <= '0'; tick;
    rd(x); ndebug <= std_logic_vector(to_signed(x, 18)); en_dbg <= '1'; tick;
    rd(x); ndebug <= std_logic_vector(to_signed(x, 18)); tick; en_dbg <= '0'; tick; tick;
    for i in 0 to 9215 loop rd(x); w_aa <= std_logic_vector(to_signed(x, 8)); en_aa <= '1'; tick; end loop;
    en_aa <= '0'; tick;
    for i in 0 to 9215 loop rd(x); w_ff <= std_logic_vector(to_signed(x, 8)); en_ff <= '1'; tick; end loop;
    en_ff <= '0'; tick;
    for i in 0 to 2303 loop
      for j in 7 downto 0 loop rd(x); if x /= 0 then b(j) := '1'; else b(j) := '0'; end if; end loop;
      stdp_byte <= b; en_stdp <= '1'; tick; en_stdp <= '0';
      for j in 1 to 10 loop tick; end loop;
    end loop;
    for i in 1 to 20 loop tick; end loop;
    start <= '1';
    wait until rising_edge(clks) and triger = '1';
    for s in 0 to nsteps - 1 loop
      rd(k);
      for i in 0 to k - 1 loop rd(addrs(i)); end loop;
      wait until rising_edge(clks) and cni = 0; wait for 1 ns;
      if k > 0 then na <= std_logic_vector(to_unsigned(addrs(0), 16)); spike_in <= '1'; end if;
      wait until rising_edge(clks); wait for 1 ns;
      spike_in <= '0';
      for i in 0 to k - 1 loop
        na <= std_logic_vector(to_unsigned(addrs(i), 16)); tick; en_input <= '1'; tick; en_input <= '0';
        for j in 1 to 150 loop tick; end loop;
      end loop;
      na <= (others => '0');
    end loop;
    wait until rising_edge(clks) and cni = 0;
    wait until rising_edge(clks) and cni = 95;
    wait until rising_edge(clks) and cni = 0;
    wait until rising_edge(clks);
    done <= true;
    wait;
  end process;
end;
"""

FIFOS = r"""
library IEEE; use IEEE.STD_LOGIC_1164.ALL; use IEEE.NUMERIC_STD.ALL;
entity fifo_generator_1 is port (clk, srst : in std_logic; din : in std_logic_vector(17 downto 0);
  wr_en, rd_en : in std_logic; dout : out std_logic_vector(17 downto 0); full, empty : out std_logic); end;
architecture b of fifo_generator_1 is
  type mem_t is array (0 to 1023) of std_logic_vector(17 downto 0);
  signal mem : mem_t := (others => (others => '0'));
  signal rp, wp : integer range 0 to 1023 := 0; signal cnt : integer range 0 to 1024 := 0;
begin
  empty <= '1' when cnt = 0 else '0'; full <= '1' when cnt = 1024 else '0';
  process(clk) variable c : integer; begin
    if rising_edge(clk) then
      if srst = '1' then rp <= 0; wp <= 0; cnt <= 0; dout <= (others => '0');
      else
        c := cnt;
        if rd_en = '1' and cnt > 0 then dout <= mem(rp); rp <= (rp + 1) mod 1024; c := c - 1; end if;
        if wr_en = '1' and cnt < 1024 then mem(wp) <= din; wp <= (wp + 1) mod 1024; c := c + 1; end if;
        cnt <= c;
      end if;
    end if;
  end process;
end;
library IEEE; use IEEE.STD_LOGIC_1164.ALL;
entity fifo_generator_2 is port (clk, srst : in std_logic; din : in std_logic_vector(7 downto 0);
  wr_en, rd_en : in std_logic; dout : out std_logic_vector(7 downto 0); full, empty : out std_logic); end;
architecture b of fifo_generator_2 is begin dout <= (others => '0'); full <= '0'; empty <= '1'; end;
"""

RAMS = ("weight_matrix", "weight_matrix_FF", "tpre_matrix", "apre_matrix", "stdp_enable_matrix")
SIGNALS = ("clks", "triger", "dut/sout", "dut/Core_0/PORT_vout", "dut/Core_0/current_neuron_index_int",
           "dut/Core_0/vin_2nd")  # fmt: skip
#: the weight RAMs' write ports (fast clock), recorded for the STDP cases
WRITES = tuple(f"dut/Core_0/weight_{k}_{s}" for k in ("FF", "AA") for s in ("we", "write_addr", "data_in"))
WRITES += ("dut/Core_0/toggle_write_FF", "dut/Core_0/toggle_write")  # 0: potentiation scan, 1: depression
#: more of the fast domain, recorded with ``--debug`` (not kept in the fixture)
DEBUG = ("dut/S_in", "dut/NEURON_ADDR", "en_input", "na") + tuple(
    f"dut/Core_0/{x}"
    for x in ("tpre_we", "tpre_write_addr", "tpre_write_data", "apre_write_data", "tpre_we_FF", "apre_we_FF",
              "tpre_write_addr_FF", "tpre_write_data_FF", "apre_write_data_FF")
)  # fmt: skip
#: the bench's RAM depth (see build); words past the loaded 96 x 96 keep the VHDL's initial value
RAM_WORDS = 16384
GHDL = ["--std=08", "-fsynopsys", "-frelaxed"]


def build(vhdl: Path, work: Path) -> None:
    """Copy, patch (see the module docstring) and elaborate the design with the bench."""
    src = work / "src"
    src.mkdir(parents=True, exist_ok=True)
    for name in (*RAMS, "Trig_LIF", "Core_engine", "LIF_unit"):
        text = (vhdl / f"{name}.vhd").read_text(errors="replace")
        if name in RAMS:
            text = re.sub(r"array \(0 to \(N1\+1\)\*\((N1|N2)\+1\)-1\)", "array (0 to 16383)", text)
            text = re.sub(
                r"to_integer\((write_addr|read_addr_STDP|read_addr)\)", r"to_integer(\1(13 downto 0))", text
            )
        if name == "Core_engine":
            old = "signal bit_count       : integer range 0 to 7 := 0;"
            if old not in text:
                sys.exit("Core_engine.vhd: the bit_count declaration has changed; check the patch")
            text = text.replace(old, "signal bit_count       : integer range 0 to 8 := 0;")
            # a potentiation scan's first write can have a negative address (index 1, stale flags):
            # the simulator stops in to_unsigned, the chip keeps the low bits; convert via to_signed
            neg = (
                "to_unsigned((FF_update_index - 2) * (N1+1) + current_neuron_index_int, "
                "weight_FF_write_addr'length)"
            )
            if neg not in text:
                sys.exit("Core_engine.vhd: the FF potentiation write address has changed; check the patch")
            text = text.replace(neg, "unsigned(to_signed" + neg[len("to_unsigned") :] + ")")
        (src / f"{name}.vhd").write_text(text)
    (src / "fifos.vhd").write_text(FIFOS)
    (src / "tb.vhd").write_text(TB)
    wd = f"--workdir={work}"
    for name in (*RAMS, "Trig_LIF", "fifos", "Core_engine", "LIF_unit", "tb"):
        subprocess.run(["ghdl", "-a", *GHDL, wd, str(src / f"{name}.vhd")], check=True)
    subprocess.run(["ghdl", "-e", *GHDL, wd, "tb"], check=True, cwd=work)


def make_case(seed: int, n_steps: int, amp: int, lateral: bool) -> dict:
    rng = np.random.default_rng(seed)
    tref = rng.integers(0, 6, 96)
    tref[0] = amp
    steps = [sorted(rng.choice(64, rng.integers(0, 10), replace=True).tolist()) for _ in range(n_steps)]
    for s in steps:
        rng.shuffle(s)
        s.sort()  # lowest address first, as the engine assumes
    ram_ff = np.zeros((96, 96), np.int64)
    ram_ff[:, :64] = rng.integers(-30, 90, (96, 64))
    return dict(
        vthr=rng.integers(200, 1500, 96),
        tref=tref,
        tau=rng.integers(0, 80, 96),
        ibias=int(rng.integers(100, 400)),
        ndebug=int(rng.integers(1, 80)),
        ram_ff=ram_ff,
        ram_aa=rng.integers(-20, 40, (96, 96)) if lateral else np.zeros((96, 96), np.int64),
        steps=steps,
    )


def make_stdp_case(
    seed: int,
    n_steps: int,
    amp: int,
    tpre: int,
    tpost: int,
    dw_pos: int,
    dw_neg: int,
    max_in: int,
    thr_hi: int,
    aa_hi: int,
    p_en_aa: float,
) -> dict:
    """STDP on: unequal neurons, random inputs and enable bits. The start-up round gets no input and the
    bias stays below every threshold, so that it is quiet and the first recorded round starts from the
    loaded RAMs with every STDP window closed."""
    rng = np.random.default_rng(seed)
    tref = rng.integers(0, 4, 96)
    tref[0] = amp
    steps = [[]] + [
        sorted(rng.choice(96, rng.integers(0, max_in + 1), replace=True).tolist()) for _ in range(n_steps - 1)
    ]
    regs = np.zeros(96, np.int64)
    regs[:3] = [tpre | tpost << 8, tpre | tpost << 8, dw_pos | dw_neg << 8]
    return dict(
        vthr=rng.integers(200, thr_hi, 96),
        tref=tref,
        tau=rng.integers(0, 200, 96),
        ibias=int(rng.integers(50, 200)),
        ndebug=int(rng.integers(1, 80)),
        ram_ff=rng.integers(-12, 40, (96, 96)),
        ram_aa=rng.integers(-10, aa_hi, (96, 96)),
        en_ff=(rng.random((96, 96)) < 0.7).astype(np.int64),
        en_aa=(rng.random((96, 96)) < p_en_aa).astype(np.int64),
        stdp_regs=regs,
        stdp=np.array([tpre, tpost, dw_pos, dw_neg]),
        steps=steps,
    )


def ram_rounds(
    path: Path, ram_ff: np.ndarray, ram_aa: np.ndarray
) -> list[tuple[np.ndarray, np.ndarray, dict]]:
    """Both weight RAMs (all 16384 words) at each start of a round but the first, replaying the writes,
    and the writes so far by kind (``ff+``: feed-forward potentiation scans, ``ff-`` depression, ...).

    The write ports are registers of the fast clock: a state seen in the VCD (``we`` = 1, address, data)
    is written at the next fast edge, which comes before (or with) the next recorded change.
    """
    rams = {}
    for k, m in (("ff", ram_ff), ("aa", ram_aa)):
        r = np.full(RAM_WORDS, 6, np.int64)  # weight_matrix*.vhd initialise every word to 6
        r[: 96 * 96] = np.asarray(m, np.int64).ravel()
        rams[k] = r
    ids: dict[str, list[str]] = {}
    scope: list[str] = []
    cur: dict[str, str] = {}
    out = []
    cni_prev = 0
    last: dict = {}
    counts = dict.fromkeys(("ff+", "ff-", "aa+", "aa-"), 0)

    def commit():
        for k, tog in (("ff", "toggle_write_ff"), ("aa", "toggle_write")):
            if cur.get(f"dut/core_0/weight_{k}_we") == "1":
                a = _val(cur[f"dut/core_0/weight_{k}_write_addr"], False) % RAM_WORDS
                d = _val(cur[f"dut/core_0/weight_{k}_data_in"])
                key = (k, cur.get(f"dut/core_0/{tog}"), a, d)
                if key != last.get(k):  # a write held over several fast edges is one write
                    counts[k + ("-" if key[1] == "1" else "+")] += 1
                    last[k] = key
                rams[k][a] = d
            else:
                last[k] = None

    def at_time():
        nonlocal cni_prev
        c = cur.get("dut/core_0/current_neuron_index_int")
        c = _val(c, False) if c else 0
        if c == 0 and cni_prev == 95:
            out.append((rams["ff"].copy(), rams["aa"].copy(), dict(counts)))
        cni_prev = c

    with open(path) as f:
        started = False
        for line in f:
            if line.startswith("$scope"):
                scope.append(line.split()[2])
            elif line.startswith("$upscope"):
                scope.pop()
            elif line.startswith("$var"):
                p = line.split()
                ids.setdefault(p[3], []).append("/".join(scope[1:] + [p[4].split("[")[0]]).lower())
            elif line.startswith("#"):
                if started:
                    at_time()
                commit()
                started = True
            elif line.strip() and not line.startswith("$"):
                v, i = line[1:].split() if line[0] in "bB" else (line[0], line[1:].strip())
                for name in ids.get(i, []):
                    cur[name] = v
        at_time()
    return out


def write_stim(path: Path, c: dict) -> None:
    with open(path, "w") as f:
        f.write(f"{len(c['steps'])}\n")
        for a in (c["vthr"], c["tref"], c["tau"], c.get("stdp_regs", np.zeros(96, np.int64))):
            f.write(" ".join(str(int(x)) for x in a) + "\n")
        f.write(f"{c['ibias']} {c['ndebug']}\n")
        zero = np.zeros((96, 96))
        for a in (
            c["ram_aa"],
            c["ram_ff"],
            c.get("en_aa", zero),
            c.get("en_ff", zero),
        ):  # then the enable bits
            for row in np.asarray(a, np.int64):
                f.write(" ".join(str(int(x)) for x in row) + "\n")
        for s in c["steps"]:
            f.write(f"{len(s)} " + " ".join(str(int(x)) for x in s) + "\n")


def read_vcd(path: Path) -> list[dict]:
    """The named signals 1 ns after every rising edge of the slow clock."""
    ids: dict[str, list[str]] = {}
    scope: list[str] = []
    cur: dict[str, str] = {}
    rows: list[dict] = []
    prev, pending, t = "0", None, 0
    with open(path) as f:
        for line in f:
            if line.startswith("$scope"):
                scope.append(line.split()[2])
            elif line.startswith("$upscope"):
                scope.pop()
            elif line.startswith("$var"):
                p = line.split()
                ids.setdefault(p[3], []).append("/".join(scope[1:] + [p[4].split("[")[0]]).lower())
            elif line.startswith("#"):
                nt = int(line[1:])
                if pending is not None and nt > pending:
                    rows.append(dict(cur))
                    pending = None
                t = nt
            elif line.strip() and not line.startswith("$"):
                v, i = line[1:].split() if line[0] in "bB" else (line[0], line[1:].strip())
                for name in ids.get(i, []):
                    cur[name] = v
                    if name == "clks":
                        if v == "1" and prev == "0":
                            pending = t + 1_000_000  # fs
                        prev = v
    return rows


def _val(bits: str, signed: bool = True) -> int:
    x = int(bits.replace("U", "0").replace("X", "0"), 2)
    return x - (1 << len(bits)) if signed and len(bits) > 1 and bits[0] == "1" else x


def rounds(rows: list[dict]) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    """Per recorded round (the second after the first trigger on): vin_2nd, vout and spikes per slot."""
    cn = [_val(r["dut/core_0/current_neuron_index_int"], False) for r in rows]
    starts = [i for i in range(1, len(rows)) if cn[i] == 0 and cn[i - 1] == 95 and i + 97 <= len(rows)]
    vin = np.array([[_val(rows[s + c]["dut/core_0/vin_2nd"]) for c in range(96)] for s in starts])
    vout = np.array([[_val(rows[s + c + 1]["dut/core_0/port_vout"]) for c in range(96)] for s in starts])
    spk = np.array([[rows[s + c + 1]["dut/sout"] == "1" for c in range(96)] for s in starts])
    return vin, vout, spk


def ram_deltas(kind: str, snaps: list[np.ndarray]) -> dict[str, np.ndarray]:
    """The words of rows 0-96 that each round changed: ``{kind}_n`` per round, then ``{kind}_idx``
    (``row * 96 + column``) and ``{kind}_val`` in round order (the first snapshot is the start)."""
    idx, val, n = [], [], []
    for a, b in zip(snaps, snaps[1:], strict=False):
        d = np.flatnonzero(a[: 97 * 96] != b[: 97 * 96])
        idx.append(d)
        val.append(b[d])
        n.append(d.size)
    return {
        f"{kind}_n": np.array(n, np.int32),
        f"{kind}_idx": np.concatenate(idx).astype(np.uint16),
        f"{kind}_val": np.concatenate(val).astype(np.int8),
    }


def run_case(work: Path, name: str, c: dict, debug: bool = False) -> dict:
    write_stim(work / f"{name}.stim", c)
    sig = SIGNALS + (WRITES if "stdp" in c else ()) + (DEBUG if debug else ())
    (work / "wave.opt").write_text("".join(f"/tb/{s}\n" for s in sig))
    subprocess.run(
        ["ghdl", "-r", *GHDL, f"--workdir={work}", "tb", f"-gstim={work / name}.stim",
         f"--read-wave-opt={work / 'wave.opt'}", f"--vcd={work / name}.vcd", "--ieee-asserts=disable"],
        check=True, cwd=work, capture_output=True,
    )  # fmt: skip
    vin, vout, spk = rounds(read_vcd(work / f"{name}.vcd"))
    width = max(len(s) for s in c["steps"]) + 1
    extra = {}
    if "stdp" in c:
        snaps = ram_rounds(work / f"{name}.vcd", c["ram_ff"], c["ram_aa"])
        n = min(len(vout), len(snaps) - 1)
        vout, spk = vout[:n], spk[:n]
        if not np.array_equal(snaps[0][0][: 96 * 96], np.ravel(c["ram_ff"])):
            sys.exit(f"{name}: the start-up round wrote the RAMs; it must stay quiet")
        # the RAMs after each recorded round, rows 0-96 (the scans reach row 96), as the words each round
        # changed (see ram_deltas)
        extra = {
            "en_ff": c["en_ff"].astype(bool),
            "en_aa": c["en_aa"].astype(bool),
            "stdp": c["stdp"],
            **ram_deltas("ff", [f for f, _, _ in snaps[: n + 1]]),
            **ram_deltas("aa", [a for _, a, _ in snaps[: n + 1]]),
            # writes in the recorded rounds by kind: ff+, ff-, aa+, aa-
            "n_writes": np.array([snaps[n][2][k] - snaps[0][2][k] for k in ("ff+", "ff-", "aa+", "aa-")]),
        }
    return {
        **extra,
        "vthr": c["vthr"],
        "tref": c["tref"],
        "tau": c["tau"],
        "ibias": c["ibias"],
        "ndebug": c["ndebug"],
        "ram_ff": c["ram_ff"].astype(np.int8),
        "ram_aa": c["ram_aa"].astype(np.int8),
        "steps": np.array([s + [-1] * (width - len(s)) for s in c["steps"]], np.int16),
        "vin0": vin[0],  # the state the first recorded round starts from
        "vout": vout.astype(np.int32),
        "spikes": spk,
    }


CASES = {"lateral": (5, 25, 3, True), "feedforward": (11, 20, 2, False)}
#: STDP cases: seed, rounds, feed-forward scale, tpre_max, tpost_max, dw_pos, dw_neg, max_in, thr_hi,
#: lateral weights in [-10, aa_hi), lateral enable bits set with probability p_en_aa
#: (dense: most neurons fire every other round; sparse: longer, so that the re-trigger counters drift),
#: at most max_in input addresses a step (8 spill past slot 2), thresholds in [200, thr_hi)
STDP_CASES = {
    "stdp_a": (21, 14, 1, 3, 2, 3, 2, 8, 3000, 12, 0.1),
    "stdp_b": (22, 14, 2, 5, 4, 1, 4, 8, 3000, 12, 0.1),
    "stdp_sparse": (23, 24, 1, 6, 3, 2, 1, 3, 40000, 6, 0.08),
}


def main(argv: list[str] | None = None) -> int:
    ap = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    ap.add_argument("--vhdl", type=Path, required=True, help="the vhdl_src folder of ORNL/NeuroCoreX")
    ap.add_argument("--out", type=Path, required=True, help="the .npz to write")
    ap.add_argument("--work", type=Path, default=None, help="work folder (default: a temporary one)")
    ap.add_argument("--cases", nargs="*", default=None, help="run only these cases (others kept from --out)")
    ap.add_argument("--debug", action="store_true", help="record more of the fast domain in the VCDs")
    a = ap.parse_args(argv)
    if shutil.which("ghdl") is None:
        sys.exit("ghdl is not installed (apt-get install ghdl)")
    work = a.work or Path(tempfile.mkdtemp(prefix="ncx_ghdl_"))
    build(a.vhdl, work)
    out = dict(np.load(a.out)) if a.cases is not None and a.out.exists() else {}
    todo = {**CASES, **STDP_CASES}
    for name, spec in todo.items():
        if a.cases is not None and name not in a.cases:
            continue
        c = make_stdp_case(*spec) if name in STDP_CASES else make_case(*spec)
        for k in [k for k in out if k.startswith(name + "/")]:
            del out[k]
        for k, v in run_case(work, name, c, a.debug).items():
            out[f"{name}/{k}"] = np.asarray(v)
        print(name, "rounds", len(out[f"{name}/vout"]), "spikes", int(out[f"{name}/spikes"].sum()))
    a.out.parent.mkdir(parents=True, exist_ok=True)
    np.savez_compressed(a.out, **out)
    return 0


if __name__ == "__main__":
    sys.exit(main())
