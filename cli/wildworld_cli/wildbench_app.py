def main():
    print("wildbench: coming")
