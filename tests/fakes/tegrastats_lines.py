"""tegrastats lines in the formats each board and JetPack prints, with what they should parse to.

`counted` lists the rails whose instantaneous values add up to the module total
for that board; `total_mw` is that sum for the line as written. The second
number of each rail (tegrastats' running average) deliberately differs from the
first, so a parser that reads the average gives the wrong total.
"""

BOARDS = {
    "nano_jp4": {
        "line": "RAM 1903/3964MB (lfb 2x2MB) SWAP 12/1982MB (cached 1MB) IRAM 0/252kB(lfb 252kB) "
        "CPU [12%@1479,9%@1479,20%@1479,7%@1479] EMC_FREQ 3%@1600 GR3D_FREQ 41%@921 APE 25 "
        "PLL@36C CPU@39.5C PMIC@50C GPU@38C AO@44C thermal@38.75C "
        "POM_5V_IN 4120/3874 POM_5V_GPU 1210/1102 POM_5V_CPU 812/790",
        "board": "Jetson Nano / TX1",
        "counted": ["POM_5V_IN"],
        "total_mw": 4120,
        "gpu_rail": "POM_5V_GPU",
    },
    "tx2_jp4": {
        "line": "RAM 2288/7852MB (lfb 1148x4MB) SWAP 0/3926MB (cached 0MB) "
        "CPU [2%@345,off,off,0%@345,1%@345,0%@345] EMC_FREQ 0%@1866 GR3D_FREQ 0%@114 APE 150 "
        "PLL@32C MCPU@32C PMIC@100C Tboard@28C GPU@30.5C BCPU@32C thermal@31.3C Tdiode@29.75C "
        "VDD_SYS_GPU 152/160 VDD_SYS_SOC 380/371 VDD_4V0_WIFI 0/0 VDD_IN 1563/1601 "
        "VDD_SYS_CPU 152/149 VDD_SYS_DDR 20/24",
        "board": "Jetson TX2",
        "counted": ["VDD_IN"],
        "total_mw": 1563,
        "gpu_rail": "VDD_SYS_GPU",
    },
    "xavier_nx_jp4_noroot": {
        "line": "RAM 2448/7765MB (lfb 1x4MB) SWAP 0/3882MB (cached 0MB) "
        "CPU [6%@1190,3%@1190,4%@1190,2%@1190,off,off] EMC_FREQ 0% GR3D_FREQ 0% "
        "AO@37.5C GPU@36C PMIC@100C AUX@36C CPU@37.5C thermal@36.65C "
        "VDD_IN 4180/4012 VDD_CPU_GPU_CV 545/530 VDD_SOC 1226/1219",
        "board": "Jetson Xavier NX / Orin Nano / Orin NX",
        "counted": ["VDD_IN"],
        "total_mw": 4180,
        "gpu_rail": "VDD_CPU_GPU_CV",
    },
    "agx_xavier_jp4": {
        "line": "RAM 2286/15692MB (lfb 2837x4MB) SWAP 0/7846MB (cached 0MB) "
        "CPU [1%@1190,0%@1190,0%@1190,0%@1190,0%@1190,0%@1190,0%@1190,0%@1190] EMC_FREQ 0%@2133 "
        "GR3D_FREQ 0%@1377 APE 150 MTS fg 0% bg 0% AO@35.5C GPU@35.5C Tdiode@37.5C PMIC@100C "
        "AUX@35C CPU@37C thermal@35.95C Tboard@35C "
        "GPU 620/410 CPU 311/300 SOC 1243/1230 CV 0/0 VDDRQ 155/150 SYS5V 1361/1350",
        "board": "Jetson AGX Xavier",
        "counted": ["GPU", "CPU", "SOC", "CV", "VDDRQ", "SYS5V"],
        "total_mw": 620 + 311 + 1243 + 0 + 155 + 1361,
        "gpu_rail": "GPU",
    },
    "agx_xavier_jp5": {
        "line": "02-15-2023 11:42:10 RAM 3105/31003MB (lfb 6711x4MB) SWAP 0/15501MB (cached 0MB) "
        "CPU [2%@1190,1%@1190,0%@1190,0%@1190,0%@1190,0%@1190,0%@1190,0%@1190] EMC_FREQ 0%@2133 "
        "GR3D_FREQ 0%@[1377] NVDEC off NVDLA0 off NVDLA1 off VIC off APE 150 MTS fg 0% bg 0% "
        "AUX@34C CPU@35.5C thermal@34.75C Tboard@34C AO@34.5C GPU@34.5C Tdiode@36.25C PMIC@50C "
        "GPU 0mW/0mW CPU 155mW/170mW SOC 1087mW/1070mW CV 0mW/0mW VDDRQ 155mW/160mW SYS5V 1413mW/1400mW",
        "board": "Jetson AGX Xavier",
        "counted": ["GPU", "CPU", "SOC", "CV", "VDDRQ", "SYS5V"],
        "total_mw": 0 + 155 + 1087 + 0 + 155 + 1413,
        "gpu_rail": "GPU",
    },
    "orin_nano_jp5": {
        "line": "04-17-2023 10:00:00 RAM 1543/6480MB (lfb 1x4MB) SWAP 0/3240MB (cached 0MB) "
        "CPU [1%@729,0%@729,0%@729,0%@729,off,off] EMC_FREQ 0%@2133 GR3D_FREQ 0%@[305] "
        "VIC_FREQ 729 APE 200 CV0@-256C CPU@47.25C SOC2@45.5C SOC0@46.5C CV1@-256C GPU@-256C "
        "tj@48.5C SOC1@44.75C CV2@-256C VDD_IN 4598mW/4411mW VDD_CPU_GPU_CV 583mW/560mW "
        "VDD_SOC 1432mW/1420mW",
        "board": "Jetson Xavier NX / Orin Nano / Orin NX",
        "counted": ["VDD_IN"],
        "total_mw": 4598,
        "gpu_rail": "VDD_CPU_GPU_CV",
    },
    "orin_nano_jp6": {
        "line": "11-02-2025 09:14:05 RAM 3310/7620MB (lfb 12x4MB) SWAP 0/3810MB (cached 0MB) "
        "CPU [18%@1510,11%@1510,9%@1510,14%@1510,off,off] EMC_FREQ 12%@2133 GR3D_FREQ 57%@[624] "
        "NVDEC off NVJPG off VIC off OFA off APE 200 cpu@51.2C soc2@49.9C soc0@50.1C gpu@52.4C "
        "tj@52.4C soc1@49.6C VDD_IN 9875mW/7410mW VDD_CPU_GPU_CV 3620mW/2480mW VDD_SOC 2105mW/1980mW",
        "board": "Jetson Xavier NX / Orin Nano / Orin NX",
        "counted": ["VDD_IN"],
        "total_mw": 9875,
        "gpu_rail": "VDD_CPU_GPU_CV",
    },
    "orin_nx_jp6_noroot": {
        "line": "03-09-2025 18:40:51 RAM 4021/15656MB (lfb 2x4MB) SWAP 0/7828MB (cached 0MB) "
        "CPU [5%@729,3%@729,2%@729,1%@729,0%@729,0%@729,1%@729,0%@729] EMC_FREQ 1% GR3D_FREQ 0% "
        "NVENC off NVDEC off NVJPG off NVJPG1 off VIC off OFA off NVDLA0 off NVDLA1 off APE 200 "
        "cpu@44.5C soc2@42.1C soc0@43.3C cv0@-256C gpu@-256C tj@44.5C soc1@42.8C cv1@-256C cv2@-256C "
        "VDD_IN 6204mW/6190mW VDD_CPU_GPU_CV 801mW/790mW VDD_SOC 1803mW/1799mW",
        "board": "Jetson Xavier NX / Orin Nano / Orin NX",
        "counted": ["VDD_IN"],
        "total_mw": 6204,
        "gpu_rail": "VDD_CPU_GPU_CV",
    },
    "agx_orin_jp6": {
        "line": "05-03-2024 14:22:31 RAM 5210/30536MB (lfb 5523x4MB) SWAP 0/15268MB (cached 0MB) "
        "CPU [3%@2201,1%@2201,0%@2201,0%@2201,2%@2201,0%@2201,0%@2201,0%@2201,off,off,off,off] "
        "EMC_FREQ 1%@3199 GR3D_FREQ 12%@[1300,1300] NVENC off NVDEC off NVJPG off NVJPG1 off VIC off "
        "OFA off NVDLA0 off NVDLA1 off PVA0_FREQ off APE 174 cpu@45.062C soc2@41.406C soc0@42.531C "
        "gpu@41.281C tj@45.062C soc1@41.75C VDD_GPU_SOC 4382mW/4100mW VDD_CPU_CV 797mW/780mW "
        "VIN_SYS_5V0 3429mW/3400mW NC 0mW/0mW VDDQ_VDD2_1V8AO 403mW/400mW NC 0mW/0mW",
        "board": "Jetson AGX Orin",
        "counted": ["VDD_GPU_SOC", "VDD_CPU_CV", "VIN_SYS_5V0"],
        "total_mw": 4382 + 797 + 3429,
        "gpu_rail": "VDD_GPU_SOC",
    },
    "thor_jp7": {
        "line": "10-21-2025 16:03:12 RAM 9120/125772MB (lfb 40x4MB) SWAP 0/0MB (cached 0MB) "
        "CPU [12%@1998,4%@1998,off,3%@1998,0%@1998,1%@1998] EMC_FREQ 8%@4266 "
        "GR3D_FREQ 23%@[1575,1575,1575] NVENC0_FREQ @1691 VIC off cpu@48.5C/52.25C "
        "tj@55.218C/57.031C gpu@51.406C/55.5C soc012@47.625C/49.1C soc345@46.9C/48.2C "
        "VDD_GPU 9120mW/6410mW/12044mW VDD_CPU_SOC_MSS 8870mW/8015mW/9620mW "
        "VIN_SYS_5V0 6120mW/6008mW/6450mW VIN 31550mW/28800mW/35010mW",
        "board": "Jetson AGX Thor",
        "counted": ["VIN"],
        "total_mw": 31550,
        "gpu_rail": "VDD_GPU",
    },
    "thor_jp7_idle": {
        "line": "10-21-2025 16:05:40 RAM 3402/125772MB (lfb 120x4MB) CPU [0%,5%,off,1%]@2601 "
        "EMC_FREQ @4266 GR3D_FREQ @[1575,1575,1575] cpu@44.75C/44.75C tj@46.218C/46.218C "
        "gpu@45.2C/45.2C VDD_GPU -392mW/-392mW/-392mW VDD_CPU_SOC_MSS 3924mW/3835mW/3990mW "
        "VIN_SYS_5V0 5064mW/5055mW/5100mW VIN 15004mW/15096mW/15200mW",
        "board": "Jetson AGX Thor",
        "counted": ["VIN"],
        "total_mw": 15004,
        "gpu_rail": "VDD_GPU",
    },
}
